using Microsoft.Extensions.Logging;
using TokenInjector.Hosting;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Hosting;

public sealed class StartupMemoryReleaseTests
{
    private const string Released = "Start-up garbage released";

    [Fact]
    public async Task ReleasesOnce_AfterEveryConfiguredAudienceHasItsFirstToken_NotBefore()
    {
        var source = FakeIdTokenSource.HeldUntilReleased();
        var logs = new LogCapture();
        await using var sidecar = await RunningSidecar.StartAsync(
            ["--audience", "https://a.example", "--audience", "https://b.example", "--log-level", "debug"],
            new SidecarHostOverrides { TokenSource = source, Logging = logging => logging.AddProvider(logs) });

        // Listeners are up, both fetches are held: nothing is released yet.
        await Task.Delay(300);
        Assert.DoesNotContain(Released, logs.Text, StringComparison.Ordinal);

        source.Release();
        using (await sidecar.GetTokenAsync("https://a.example"))
        using (await sidecar.GetTokenAsync("https://b.example"))
        {
        }

        await TestWait.UntilAsync(() => logs.Text.Contains(Released, StringComparison.Ordinal));
        using (await sidecar.GetTokenAsync("https://dynamic.example"))
        {
        }

        Assert.Single(logs.Text.Split('\n'), line => line.Contains(Released, StringComparison.Ordinal));
    }
}
