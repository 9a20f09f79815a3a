using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>docs/ARCHITECTURE.md "The emulators", metadata point 9: the metadata server that is not ready when the pod starts.</summary>
public sealed class StartupWindowTests
{
    private const string IdentityPath = AccountsPath + "/default/identity?audience=https://a.run.app";

    [Fact]
    public async Task Refuse_StartAsyncReturnsAtOnceWithAPort_ConnectionsRefusedUntilTheWindowPasses()
    {
        var time = new FakeTimeProvider(FakeStart);
        var started = Stopwatch.StartNew();
        await using var emulator = await StartAsync(o =>
        {
            o.Time = time;
            o.StartupWindow = TimeSpan.FromMinutes(10);
            o.StartupFailure = StartupFailure.Refuse;
        });
        Assert.True(started.Elapsed < TimeSpan.FromMinutes(1));
        Assert.DoesNotContain(":0", emulator.HostAndPort, StringComparison.Ordinal);
        var hostAndPort = emulator.HostAndPort;
        using var client = CreateClient(emulator);

        await AssertConnectionRefusedAsync(client);
        time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.False(emulator.WhenListening.IsCompleted);
        await AssertConnectionRefusedAsync(client);

        time.Advance(TimeSpan.FromSeconds(1));
        await emulator.WhenListening.Bounded();

        Assert.Equal(hostAndPort, emulator.HostAndPort);
        using var response = await client.SendMetadataAsync(IdentityPath, flavor: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Refuse_WithTheSystemClock_ListensAfterARealDelay()
    {
        await using var emulator = await StartAsync(o => o.StartupWindow = TimeSpan.FromMilliseconds(300));
        using var client = CreateClient(emulator);

        await emulator.WhenListening.Bounded();

        using var response = await client.SendMetadataAsync("/", flavor: false);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(nameof(StartupFailure.NotFound), HttpStatusCode.NotFound)]
    [InlineData(nameof(StartupFailure.Unavailable), HttpStatusCode.ServiceUnavailable)]
    public async Task ErrorStatusModes_AnswerThatStatusDuringTheWindow_ThenServeNormally(string failure, HttpStatusCode duringWindow)
    {
        var mode = Enum.Parse<StartupFailure>(failure);

        var time = new FakeTimeProvider(FakeStart);
        await using var emulator = await StartAsync(o =>
        {
            o.Time = time;
            o.StartupWindow = TimeSpan.FromSeconds(30);
            o.StartupFailure = mode;
        });
        using var client = CreateClient(emulator);
        Assert.True(emulator.WhenListening.IsCompletedSuccessfully);

        using (var early = await client.SendMetadataAsync(IdentityPath, flavor: true))
        {
            Assert.Equal(duringWindow, early.StatusCode);
            Assert.Equal(["Google"], early.Headers.GetValues("Metadata-Flavor"));
        }

        // Google's JWKS is another service: a metadata server that is starting does not take it down.
        using (var jwks = await client.SendMetadataAsync("/oauth2/v3/certs", flavor: false))
        {
            Assert.Equal(HttpStatusCode.OK, jwks.StatusCode);
        }

        time.Advance(TimeSpan.FromSeconds(30));

        using var later = await client.SendMetadataAsync(IdentityPath, flavor: true);
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.Equal(2, emulator.IdentityRequests("https://a.run.app"));
    }
}
