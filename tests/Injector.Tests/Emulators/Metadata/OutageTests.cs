using System.Net;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>The metadata server going away and coming back on the same address (GKE node upgrades, gke-metadata-server restarts).</summary>
public sealed class OutageTests
{
    private const string Audience = "https://a.run.app";

    [Fact]
    public async Task StopListening_RefusesConnections_ResumeListening_ServesOnTheSamePortWithStateKept()
    {
        await using var emulator = await StartAsync(o => o.GkeCache = true);
        using var client = CreateClient(emulator);
        var hostAndPort = emulator.HostAndPort;
        var before = await client.GetIdentityTokenAsync(Audience);
        var keysBefore = await JwksKeyIdsAsync(client, emulator);

        await emulator.StopListeningAsync().Bounded();
        await AssertConnectionRefusedAsync(client);
        Assert.Equal(hostAndPort, emulator.HostAndPort);

        await emulator.ResumeListeningAsync().Bounded();
        var after = await client.GetIdentityTokenAsync(Audience);

        Assert.Equal(hostAndPort, emulator.HostAndPort);
        Assert.Equal(before, after);
        Assert.Equal(keysBefore, await JwksKeyIdsAsync(client, emulator));
        Assert.Equal(2, emulator.IdentityRequests(Audience));
    }

    [Fact]
    public async Task StopListening_RepeatedOutages_EachResumeWorks()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        for (var i = 0; i < 3; i++)
        {
            await emulator.StopListeningAsync().Bounded();
            await AssertConnectionRefusedAsync(client);
            await emulator.ResumeListeningAsync().Bounded();
            using var response = await client.SendMetadataAsync("/", flavor: false);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task StopListening_WithAHungRequest_DropsIt()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        emulator.Faults.Hang = true;
        var pending = client.SendMetadataAsync($"{AccountsPath}/default/identity?audience={Audience}", flavor: true);
        await TestWait.UntilAsync(() => emulator.IdentityRequests(Audience) == 1);

        await emulator.StopListeningAsync().Bounded();

        await Assert.ThrowsAsync<HttpRequestException>(() => pending);
    }

    [Fact]
    public async Task StopListening_KeepAliveConnection_IsClosedToo()
    {
        await using var emulator = await StartAsync();
        using var pooled = new HttpClient { BaseAddress = emulator.BaseAddress, Timeout = TestWait.Limit };
        using (var warm = await pooled.SendMetadataAsync("/", flavor: false))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await emulator.StopListeningAsync().Bounded();

        await Assert.ThrowsAsync<HttpRequestException>(() => pooled.SendMetadataAsync("/", flavor: false));
    }
}
