using Microsoft.Extensions.Logging;
using TokenInjector.Hosting;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Hosting;

public sealed class MemoryReleaseTests
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

        // The socket answers (the host has started) while both fetches are held: nothing is released yet.
        await TestWait.UntilAsync(() => source.Calls("https://a.example") == 1 && source.Calls("https://b.example") == 1);
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

        // Once, and after both first tokens (a release at start would show before them: the log keeps its order).
        var lines = logs.Text.Split('\n').ToList();
        var release = Assert.Single(lines, line => line.Contains(Released, StringComparison.Ordinal));
        Assert.All(
            ["https://a.example", "https://b.example"],
            audience => Assert.True(lines.FindIndex(line => line.Contains("New token for " + audience, StringComparison.Ordinal)) is var renewed && renewed >= 0 && renewed < lines.IndexOf(release), audience));
    }
}
