using System.Net;
using System.Text;
using TokenInjector.DevStack.Stack;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// A sidecar process at debug level, in both log formats, driven through its successes and every error path (socket
/// 400/403/404/405/414/503, upstream 401, TLS failure, unreachable upstream): no token in any log line, in /metrics, or
/// in any error body. The successful answers do hold tokens, which proves the scanner finds them.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class TokenLeakTests
{
    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task EveryErrorPath_AtDebugLevel_NoTokenInLogsMetricsOrErrorBodies(string format)
    {
        await using var stack = await CloudRunStack.StartAsync();
        var port = stack.CloudRun.Port;
        var wrongAudiencePort = FreePort.Next();
        var wrongHostPort = FreePort.Next();
        var deadPort = FreePort.Next();
        var dead = FreePort.Next();
        using var directory = new TempDirectory();
        using var strictDirectory = new TempDirectory();
        string[] common = ["--log-level", "debug", "--log-format", format, "--upstream-ca-file", stack.CaFile];
        var routed = stack.Sidecar(
        [
            .. common,
            "--route", $"{stack.RoutePort}=https://{CloudRunStack.ServiceHost}:{port}",
            "--route", $"{wrongAudiencePort}=https://{CloudRunStack.ServiceHost}:{port}=https://wrong-audience.example",
            "--route", $"{wrongHostPort}=https://other-host.example:{port}",
            "--route", $"{deadPort}=https://dead.example:{dead}",
            "--resolve", $"{CloudRunStack.ServiceHost}:{port}:127.0.0.1", "--resolve", $"other-host.example:{port}:127.0.0.1", "--resolve", $"dead.example:{dead}:127.0.0.1",
        ]);
        using var sidecar = await SidecarProcess.StartAsync(routed with { SocketPath = directory.File("sidecar.sock") }, TestWait.Limit);
        var strictLaunch = stack.Sidecar([.. common, "--audience", CloudRunStack.ServiceUrl, "--allow-dynamic-audiences", "false"]);
        using var strict = await SidecarProcess.StartAsync(strictLaunch with { SocketPath = strictDirectory.File("sidecar.sock") }, TestWait.Limit);

        var errorBodies = new StringBuilder();
        var codes = new List<int>();
        var successes = new StringBuilder();
        async Task SocketAsync(SidecarProcess target, HttpMethod method, string pathAndQuery)
        {
            using var request = new HttpRequestMessage(method, pathAndQuery);
            using var response = await target.Socket.SendAsync(request).Bounded();
            var body = await response.Content.ReadAsStringAsync().Bounded();
            codes.Add((int)response.StatusCode);
            (response.StatusCode == HttpStatusCode.OK ? successes : errorBodies).Append(response.Headers).Append(body).Append('\n');
        }

        async Task RouteAsync(int routePort)
        {
            using var client = new HttpClient { Timeout = TestWait.Limit };
            using var response = await client.GetAsync($"http://127.0.0.1:{routePort}/whoami").Bounded();
            var body = await response.Content.ReadAsStringAsync().Bounded();
            codes.Add((int)response.StatusCode);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                errorBodies.Append(response.Headers).Append(body).Append('\n');
            }
        }

        var audience = Uri.EscapeDataString(CloudRunStack.ServiceUrl);
        await SocketAsync(sidecar, HttpMethod.Get, "/v1/token?audience=" + audience);
        await SocketAsync(sidecar, HttpMethod.Get, "/v1/token?audience=" + audience + "&json=1");
        await SocketAsync(sidecar, HttpMethod.Get, "/v1/token");
        await SocketAsync(sidecar, HttpMethod.Get, "/v1/token?audience=a%20b");
        await SocketAsync(sidecar, HttpMethod.Get, "/v1/tokens?audience=" + audience);
        await SocketAsync(sidecar, HttpMethod.Post, "/v1/token?audience=" + audience);
        await SocketAsync(sidecar, HttpMethod.Get, "/v1/token?audience=" + audience + "&pad=" + new string('x', 70 * 1024));
        await SocketAsync(strict, HttpMethod.Get, "/v1/token?audience=https://not-configured.example");
        await RouteAsync(stack.RoutePort);
        await RouteAsync(wrongAudiencePort);
        await RouteAsync(wrongHostPort);
        await RouteAsync(deadPort);
        stack.Metadata.Faults.Status = 503;
        await SocketAsync(sidecar, HttpMethod.Get, "/v1/token?audience=https://dynamic.example");
        stack.Metadata.Faults.Status = null;

        using var admin = new HttpClient { Timeout = TestWait.Limit };
        var metrics = await admin.GetStringAsync($"http://{sidecar.Admin}/metrics").Bounded();
        await sidecar.Process.TerminateAsync();
        await strict.Process.TerminateAsync();
        await sidecar.Process.WaitForExitAsync();
        await strict.Process.WaitForExitAsync();
        var logs = sidecar.Process.Output + "\n" + strict.Process.Output;

        var expectedCodes = new[] { 400, 403, 404, 405, 414, 503, 401, 502 };
        var leaks = TokenLeakScanner.CountLeaks(logs) + TokenLeakScanner.CountLeaks(metrics) + TokenLeakScanner.CountLeaks(errorBodies.ToString());
        var scannerSeesTokens = TokenLeakScanner.CountLeaks(successes.ToString()) >= 2;
        var missingCodes = expectedCodes.Except(codes).ToList();
        var passed = leaks == 0 && scannerSeesTokens && missingCodes.Count == 0;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Security,
            $"no token leak, {format} logs at debug",
            [
                $"requests: {codes.Count} (codes {string.Join(" ", codes.Distinct().Order())})",
                $"log lines: {logs.Split('\n').Length}, /metrics: {metrics.Length} chars, error bodies: {errorBodies.Length} chars",
                $"token-like strings found: {leaks}",
                $"tokens found in the successful answers (scanner works): {(scannerSeesTokens ? "yes" : "no")}",
            ],
            passed)
        {
            Note = missingCodes.Count == 0 ? string.Empty : "error paths not reached: " + string.Join(" ", missingCodes),
        });

        Assert.True(TokenLeakScanner.CountLeaks(logs) == 0, TokenLeakScanner.Describe(logs, "the logs"));
        Assert.True(TokenLeakScanner.CountLeaks(metrics) == 0, TokenLeakScanner.Describe(metrics, "/metrics"));
        Assert.True(TokenLeakScanner.CountLeaks(errorBodies.ToString()) == 0, TokenLeakScanner.Describe(errorBodies.ToString(), "the error bodies"));
        Assert.True(scannerSeesTokens, "the scanner found no token in the successful answers");
        Assert.Empty(missingCodes);
    }
}
