using System.Diagnostics;
using System.Net;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>docs/ARCHITECTURE.md "The emulators", metadata point 9: injected statuses, latency and hangs, switched at run time.</summary>
public sealed class FaultTests
{
    private const string Audience = "https://a.run.app";
    private const string IdentityPath = AccountsPath + "/default/identity?audience=" + Audience;

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Status_AnswersEveryMetadataRequestWithIt_UntilCleared(int status)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        emulator.Faults.Status = status;
        using (var identity = await client.SendMetadataAsync(IdentityPath, flavor: true))
        using (var token = await client.SendMetadataAsync(AccountsPath + "/default/token", flavor: true))
        using (var probe = await client.SendMetadataAsync("/", flavor: false))
        {
            Assert.Equal(status, (int)identity.StatusCode);
            Assert.Equal(status, (int)token.StatusCode);
            Assert.Equal(["Google"], identity.Headers.GetValues("Metadata-Flavor"));
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        emulator.Faults.Status = null;
        using var healed = await client.SendMetadataAsync(IdentityPath, flavor: true);
        Assert.Equal(HttpStatusCode.OK, healed.StatusCode);
    }

    [Fact]
    public async Task Latency_DelaysTheAnswer()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        emulator.Faults.Latency = TimeSpan.FromMilliseconds(300);

        var stopwatch = Stopwatch.StartNew();
        using var response = await client.SendMetadataAsync(IdentityPath, flavor: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(290), $"answered after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Latency_LongerThanTheClientTimeout_TimesTheClientOut()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator, timeout: TimeSpan.FromMilliseconds(200));
        emulator.Faults.Latency = TimeSpan.FromSeconds(30);

        await Assert.ThrowsAsync<TaskCanceledException>(() => client.SendMetadataAsync(IdentityPath, flavor: true));
    }

    [Fact]
    public async Task Hang_NeverAnswers_SoTheClientTimesOut()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator, timeout: TimeSpan.FromMilliseconds(300));
        emulator.Faults.Hang = true;

        await Assert.ThrowsAsync<TaskCanceledException>(() => client.SendMetadataAsync(IdentityPath, flavor: true));
        Assert.Equal(1, emulator.IdentityRequests(Audience));
    }

    [Fact]
    public async Task Hang_SwitchedOff_ReleasesTheParkedRequest()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        emulator.Faults.Hang = true;

        var pending = client.SendMetadataAsync(IdentityPath, flavor: true);
        await TestWait.UntilAsync(() => emulator.IdentityRequests(Audience) == 1);
        Assert.False(pending.IsCompleted);
        emulator.Faults.Hang = false;

        using var response = await pending.Bounded();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Hang_EmulatorDisposed_DropsTheParkedRequest()
    {
        var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        emulator.Faults.Hang = true;
        var pending = client.SendMetadataAsync(IdentityPath, flavor: true);
        await TestWait.UntilAsync(() => emulator.IdentityRequests(Audience) == 1);

        await emulator.DisposeAsync().AsTask().Bounded();

        await Assert.ThrowsAsync<HttpRequestException>(() => pending);
    }

    [Fact]
    public void Status_OutsideTheHttpRange_IsRejected()
    {
        var faults = new TokenInjector.Emulators.Metadata.MetadataFaults();

        Assert.Throws<ArgumentOutOfRangeException>(() => faults.Status = 42);
        Assert.Throws<ArgumentOutOfRangeException>(() => faults.Latency = TimeSpan.FromSeconds(-1));
    }
}
