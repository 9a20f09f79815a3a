using System.Globalization;
using System.Net;
using System.Text.Json;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Proxy;

/// <summary>
/// The header that carries the token, per route and per egress host (<c>;header=MODE</c>) over the sidecar's
/// <c>--auth-header</c>: app → sidecar → Cloud Run emulator (in its Cloud Run or IAP mode, real TLS) → an upstream that
/// echoes the headers it got, so each test sees what the service receives.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class HeaderModeTests
{
    private const string IapClientId = "1234567890-abcdef.apps.googleusercontent.com";
    private const string AppAuthorization = "Basic YXBwOm93bi1zZWNyZXQ=";
    private const string Redacted = ".SIGNATURE_REMOVED_BY_GOOGLE";

    [Fact]
    public async Task ProxyAuthorizationRoute_TheAppsAuthorizationReachesTheService_AndTheIapEmulatorAccepts()
    {
        // The IAP emulator requires the email claim, which the metadata emulator adds only for format=full: routes ask
        // for that format.
        await using var stack = await CloudRunStack.StartAsync(cloudRun: options => options.IapAudience = IapClientId, headerEchoUpstream: true);
        var wrongAudiencePort = FreePort.Next();
        await StartTwoRoutesAsync(stack, $";header=proxy-authorization={IapClientId}", wrongAudiencePort, ";header=proxy-authorization");

        var (status, seen) = await GetHeadersAsync(stack.RoutePort, AppAuthorization);
        var (refused, _) = await GetHeadersAsync(wrongAudiencePort, AppAuthorization);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(AppAuthorization, seen!["authorization"]);
        Assert.False(seen.ContainsKey("proxy-authorization"), "IAP consumes Proxy-Authorization");
        Assert.False(seen.ContainsKey("x-serverless-authorization"));
        Assert.Equal(1, stack.CloudRun.Stats.Accepted);
        Assert.Equal(HttpStatusCode.Unauthorized, refused);
        Assert.Equal(1, stack.CloudRun.Stats.RejectedBy("wrong_audience"));
    }

    [Fact]
    public async Task TwoRoutesWithDifferentModes_InOneSidecar_EachPutsTheTokenInItsOwnHeader()
    {
        await using var stack = await CloudRunStack.StartAsync(headerEchoUpstream: true);
        var serverlessPort = FreePort.Next();
        await StartTwoRoutesAsync(stack, string.Empty, serverlessPort, ";header=x-serverless-authorization");

        var (defaultStatus, byDefault) = await GetHeadersAsync(stack.RoutePort, AppAuthorization);
        var (serverlessStatus, serverless) = await GetHeadersAsync(serverlessPort, AppAuthorization);

        Assert.Equal(HttpStatusCode.OK, defaultStatus);
        Assert.EndsWith(Redacted, byDefault!["authorization"], StringComparison.Ordinal);
        Assert.False(byDefault.ContainsKey("x-serverless-authorization"));
        Assert.Equal(HttpStatusCode.OK, serverlessStatus);
        Assert.Equal(AppAuthorization, serverless!["authorization"]);
        Assert.EndsWith(Redacted, serverless["x-serverless-authorization"], StringComparison.Ordinal);
        Assert.Equal(2, stack.CloudRun.Stats.Accepted);
    }

    [Fact]
    public async Task EgressHostWithItsOwnMode_OverridesTheSidecarDefault()
    {
        await using var stack = await CloudRunStack.StartAsync(headerEchoUpstream: true);
        var egressPort = FreePort.Next();
        await stack.StartSidecarAsync(
        [
            "--auth-header", "authorization",
            "--egress", Invariant(egressPort),
            "--egress-host", CloudRunStack.ServiceHost + ";header=x-serverless-authorization",
            "--resolve", $"{CloudRunStack.ServiceHost}:443:127.0.0.1:{Invariant(stack.CloudRun.Port)}",
            "--upstream-ca-file", stack.CaFile,
        ]);
        using var http = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy($"http://127.0.0.1:{Invariant(egressPort)}"), UseProxy = true })
        {
            Timeout = TestWait.Limit,
        };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{CloudRunStack.ServiceHost}/headers");
        request.Headers.TryAddWithoutValidation("Authorization", AppAuthorization);

        using var response = await http.SendAsync(request).Bounded();
        var seen = JsonSerializer.Deserialize<Dictionary<string, string>>(await response.Content.ReadAsStringAsync().Bounded())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(AppAuthorization, seen["authorization"]);
        Assert.EndsWith(Redacted, seen["x-serverless-authorization"], StringComparison.Ordinal);
        Assert.Equal(1, stack.CloudRun.Stats.Accepted);
    }

    private static async Task<(HttpStatusCode Status, Dictionary<string, string>? Headers)> GetHeadersAsync(int port, string appAuthorization)
    {
        using var http = new HttpClient { Timeout = TestWait.Limit };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{Invariant(port)}/headers");
        request.Headers.TryAddWithoutValidation("Authorization", appAuthorization);
        using var response = await http.SendAsync(request).Bounded();
        var body = await response.Content.ReadAsStringAsync().Bounded();
        return (response.StatusCode, response.IsSuccessStatusCode ? JsonSerializer.Deserialize<Dictionary<string, string>>(body) : null);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    // Two routes to the Cloud Run emulator, on the stack's route port and on secondPort, each with its own parameters.
    private static Task StartTwoRoutesAsync(CloudRunStack stack, string first, int secondPort, string second)
    {
        var upstream = $"https://{CloudRunStack.ServiceHost}:{Invariant(stack.CloudRun.Port)}";
        return stack.StartSidecarAsync(
        [
            "--route", $"{Invariant(stack.RoutePort)}={upstream}{first}",
            "--route", $"{Invariant(secondPort)}={upstream}{second}",
            "--resolve", $"{CloudRunStack.ServiceHost}:{Invariant(stack.CloudRun.Port)}:127.0.0.1",
            "--upstream-ca-file", stack.CaFile,
        ]);
    }
}
