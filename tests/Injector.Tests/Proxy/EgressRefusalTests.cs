using System.Net;
using System.Text;
using Grpc.Core;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Proxy;

/// <summary>
/// What the egress port refuses (a host off the allowlist, a TLS tunnel, another port, targets that disagree): a short
/// answer that says why and what to do, from real clients and from raw bytes, and nothing reaches either service or
/// the metadata server.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class EgressRefusalTests
{
    private const string A = EgressStack.HostA;
    private const string B = EgressStack.HostB;

    public static TheoryData<string, int, string> RawRequests => new()
    {
        { "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n", 403, "evil.example is not an allowed egress host (*.run.app)" },
        { "GET /whoami HTTP/1.1\r\nHost: evil.example\r\n\r\n", 403, "evil.example is not an allowed egress host" },
        { $"CONNECT {A}:443 HTTP/1.1\r\nHost: {A}:443\r\n\r\n", 403, "a TLS tunnel would hide the request, so no token could be added; use http://" + A },
        { $"GET https://{A}/whoami HTTP/1.1\r\nHost: {A}\r\n\r\n", 403, "this port takes plain HTTP and adds TLS itself" },
        { $"GET http://{A}:8080/whoami HTTP/1.1\r\nHost: {A}:8080\r\n\r\n", 403, "port 8080 refused" },
        { $"CONNECT {A}:8443 HTTP/1.1\r\nHost: {A}:8443\r\n\r\n", 403, "port 8443 refused" },
        { $"CONNECT evil.example:80 HTTP/1.1\r\nHost: evil.example:80\r\n\r\n", 403, "evil.example is not an allowed egress host" },
        { $"CONNECT {A}:80 HTTP/1.1\r\nHost: {B}:80\r\n\r\n", 400, $"the CONNECT target names {A}:80 but its Host header names {B}:80" },
        { $"CONNECT {A} HTTP/1.1\r\nHost: {A}\r\n\r\n", 400, "has no port" },
        { $"GET http://user@{A}/ HTTP/1.1\r\nHost: {A}\r\n\r\n", 400, "user information" },
        { "GET /whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 403, "127.0.0.1 is not an allowed egress host" },
    };

    [Theory]
    [MemberData(nameof(RawRequests))]
    public async Task RefusedTarget_IsAnsweredWithWhyAndWhatToDo_AndReachesNothing(string request, int status, string why)
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();

        var answer = await RawHttpExchange.SendAsync(
            new IPEndPoint(IPAddress.Loopback, egress.EgressPort), Encoding.ASCII.GetBytes(request), TestWait.Limit, TestWait.Limit);

        Assert.Equal(status, answer.StatusCode);
        Assert.Contains("token-injector: ", answer.Body, StringComparison.Ordinal);
        Assert.Contains(why, answer.Body, StringComparison.Ordinal);
        Assert.True(answer.Body.Length < 300, answer.Body);
        AssertNothingReached(egress);
    }

    /// <summary>
    /// Targets Kestrel itself refuses before any handler sees them (an absolute-form URL whose authority is not the
    /// Host header, a scheme other than http/https): a bare 400, and nothing forwarded.
    /// </summary>
    [Theory]
    [InlineData($"GET http://{A}/whoami HTTP/1.1\r\nHost: {B}\r\n\r\n")]
    [InlineData($"GET ftp://{A}/ HTTP/1.1\r\nHost: {A}\r\n\r\n")]
    public async Task TargetKestrelRejects_Is400_AndReachesNothing(string request)
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();

        var answer = await RawHttpExchange.SendAsync(
            new IPEndPoint(IPAddress.Loopback, egress.EgressPort), Encoding.ASCII.GetBytes(request), TestWait.Limit, TestWait.Limit);

        Assert.Equal(400, answer.StatusCode);
        AssertNothingReached(egress);
    }

    [Fact]
    public async Task Curl_OffTheAllowlist_Https_AndAHostThatDisagreesWithTheTunnel_AreRefused_AndReachNothing()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync("--egress-host", A);

        var (_, offList, _) = await ChildProcess.RunAsync("curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", "-x", egress.ProxyUrl, $"http://{B}/whoami"]);
        Assert.Equal($"token-injector: {B} is not an allowed egress host ({A}); the request was not forwarded (allow it with --egress-host)\n\n403\n", offList);

        // curl opens CONNECT HOST:443 for an https:// URL; the refusal is the answer to its CONNECT.
        var (tlsExit, _, tlsError) = await ChildProcess.RunAsync("curl", ["-sS", "--max-time", "20", "-x", egress.ProxyUrl, $"https://{A}/whoami"]);
        Assert.NotEqual(0, tlsExit);
        Assert.Contains("CONNECT tunnel failed, response 403", tlsError, StringComparison.Ordinal);

        var (_, mismatch, _) = await ChildProcess.RunAsync(
            "curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", "-x", egress.ProxyUrl, "--proxytunnel", "-H", $"Host: {B}", $"http://{A}/whoami"]);
        Assert.EndsWith("\n400\n", mismatch, StringComparison.Ordinal);
        Assert.Contains($"the tunnel names {A}:80 but Host/:authority names {B}:80", mismatch, StringComparison.Ordinal);

        AssertNothingReached(egress);
    }

    [Fact]
    public async Task GrpcToAHostOffTheAllowlist_IsPermissionDenied_WithTheReason()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync("--egress-host", A);
        using var channel = egress.Channel(B);

        var error = await Assert.ThrowsAsync<RpcException>(
            () => new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "x" }, deadline: TestWait.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains($"{B} is not an allowed egress host", error.Status.Detail, StringComparison.Ordinal);
        AssertNothingReached(egress);
    }

    private static void AssertNothingReached(EgressStack egress)
    {
        Assert.Equal(0, egress.ServicesReached);
        Assert.Equal(0, egress.Stack.Metadata.TotalIdentityRequests);
    }
}
