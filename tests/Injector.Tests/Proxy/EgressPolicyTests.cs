using TokenInjector.Configuration;
using TokenInjector.Proxy;

namespace TokenInjector.Tests.Proxy;

/// <summary>
/// <see cref="EgressPolicy.Decide"/> as the pure security rule it is: one named row per branch, what it forwards where
/// (with which audience) or how it refuses. <see cref="EgressRefusalTests"/> checks the same refusals through a running
/// listener and real clients.
/// </summary>
public sealed class EgressPolicyTests
{
    private static readonly EgressPolicy Policy = new(
    [
        new EgressHostSpec("*.run.app", null),
        new EgressHostSpec("*.eu.example.com", "custom-eu"),
        new EgressHostSpec("*.example.com", null),
        new EgressHostSpec("api.example.org", "https://api-audience"),
    ]);

    /// <summary>Requests that are forwarded: to https://HOST/, with the token for the audience given.</summary>
    private static readonly Dictionary<string, (EgressRequest Request, string Host, string Audience)> ForwardedRows = new()
    {
        ["forward proxy"] = (Request("GET", "http://svc.a.run.app/path?q=1"), "svc.a.run.app", "https://svc.a.run.app"),
        ["forward proxy with port 80"] = (Request("GET", "http://svc.a.run.app:80/x"), "svc.a.run.app", "https://svc.a.run.app"),
        ["forward proxy, matching Host"] = (Request("POST", "http://svc.a.run.app/", host: "svc.a.run.app"), "svc.a.run.app", "https://svc.a.run.app"),
        ["direct, Host only"] = (Request("GET", "/x", host: "svc.a.run.app"), "svc.a.run.app", "https://svc.a.run.app"),
        ["direct, upper case and trailing dot"] = (Request("GET", "/x", host: "SVC.A.Run.App.:80"), "svc.a.run.app", "https://svc.a.run.app"),
        ["CONNECT target"] = (Connect("svc.a.run.app:80"), "svc.a.run.app", "https://svc.a.run.app"),
        ["CONNECT target with its Host"] = (Connect("svc.a.run.app:80", host: "svc.a.run.app"), "svc.a.run.app", "https://svc.a.run.app"),
        ["inside a tunnel"] = (Request("POST", "/echo.Echo/Unary", host: "svc.a.run.app", tunnel: "svc.a.run.app"), "svc.a.run.app", "https://svc.a.run.app"),
        ["inside a tunnel, no Host"] = (Request("POST", "/x", tunnel: "svc.a.run.app"), "svc.a.run.app", "https://svc.a.run.app"),
        ["most specific wildcard's audience"] = (Request("GET", "/", host: "a.eu.example.com"), "a.eu.example.com", "custom-eu"),
        ["wildcard at any depth"] = (Request("GET", "/", host: "b.a.example.com"), "b.a.example.com", "https://b.a.example.com"),
        ["exact host's audience"] = (Request("GET", "/", host: "api.example.org"), "api.example.org", "https://api-audience"),
        ["internationalized name as punycode"] = (Request("GET", "/", host: "bücher.example.com"), "xn--bcher-kva.example.com", "https://xn--bcher-kva.example.com"),
    };

    public static TheoryData<string> Forwarded => [.. ForwardedRows.Keys];

    public static TheoryData<string> Refused => [.. RefusedRows.Keys];

    [Theory]
    [MemberData(nameof(Forwarded))]
    public void Decide_AllowedRequest_IsForwardedOverTlsWithItsAudience(string name)
    {
        var (request, host, audience) = ForwardedRows[name];
        var decision = Policy.Decide(request);

        Assert.True(decision.Refusal is null, $"{name}: {decision.Refusal}");
        Assert.Equal(new ForwardingTarget(ForwardingTarget.EgressListener, host, $"https://{host}/", audience), decision.Target);
    }

    /// <summary>Requests that are refused: the status, and a part of the message that says why.</summary>
    private static readonly Dictionary<string, (EgressRequest Request, int Status, string Because)> RefusedRows = new()
    {
        ["CONNECT inside a connection"] = (Request("CONNECT", "svc.a.run.app:80"), 400, "CONNECT opens a tunnel: send it as the first request of a new connection"),
        ["neither path nor http URL"] = (Request("GET", "ftp://svc.a.run.app/"), 400, "is neither a path (/...) nor an http://HOST/... URL"),
        ["user information"] = (Request("GET", "http://user@svc.a.run.app/"), 400, "has user information before the host"),
        ["no host at all"] = (Request("GET", "/x"), 400, "the request names no host"),
        ["CONNECT without a port"] = (Connect("svc.a.run.app"), 400, "the CONNECT target 'svc.a.run.app' has no port (HOST:PORT)"),
        ["port out of range"] = (Request("GET", "http://svc.a.run.app:70000/"), 400, "does not end in a port from 1 to 65535"),
        ["port not a number"] = (Request("GET", "/", host: "svc.a.run.app:http"), 400, "does not end in a port from 1 to 65535"),
        ["unclosed bracket"] = (Request("GET", "/", host: "[::1"), 400, "has an unclosed '['"),
        ["host that is no DNS name"] = (Request("GET", "/", host: "svc_a.run.app"), 400, "has a host that is not a DNS host name"),
        ["URL and Host disagree"] = (Request("GET", "http://svc.a.run.app/", host: "other.a.run.app"), 400, "the request URL names svc.a.run.app:80 but Host/:authority names other.a.run.app:80"),
        ["URL and Host ports disagree"] = (Request("GET", "http://svc.a.run.app/", host: "svc.a.run.app:8080"), 400, "names svc.a.run.app:80 but Host/:authority names svc.a.run.app:8080"),
        ["tunnel and Host disagree"] = (Request("GET", "/", host: "other.a.run.app", tunnel: "svc.a.run.app"), 400, "the tunnel names svc.a.run.app:80 but Host/:authority names other.a.run.app:80"),
        ["CONNECT and its Host disagree"] = (Connect("svc.a.run.app:80", host: "other.a.run.app"), 400, "but its Host header names other.a.run.app:80"),
        ["https URL"] = (Request("GET", "https://svc.a.run.app/"), 403, "svc.a.run.app:443 refused: this port takes plain HTTP and adds TLS itself"),
        ["TLS tunnel"] = (Connect("svc.a.run.app:443"), 403, "svc.a.run.app:443 refused: a TLS tunnel would hide the request"),
        ["another port"] = (Request("GET", "/", host: "svc.a.run.app:8080"), 403, "port 8080 refused: this port forwards http://HOST (port 80) to https://HOST only"),
        ["off the allowlist"] = (Request("GET", "http://evil.example.net/"), 403, "evil.example.net is not an allowed egress host (*.run.app, *.eu.example.com, *.example.com, api.example.org)"),
        ["a wildcard's own suffix"] = (Request("GET", "/", host: "run.app"), 403, "run.app is not an allowed egress host"),
        ["a suffix that is not a label"] = (Request("GET", "/", host: "evilrun.app"), 403, "evilrun.app is not an allowed egress host"),
        ["IPv4 literal"] = (Request("GET", "http://127.0.0.1/"), 403, "127.0.0.1 is not an allowed egress host"),
        ["IPv6 literal"] = (Request("GET", "/", host: "[::1]:80"), 403, "[::1] is not an allowed egress host"),
        ["IPv4 in another form"] = (Request("GET", "/", host: "0x7f.1"), 403, "0x7f.1 is not an allowed egress host"),
        ["all-digit top-level label"] = (Request("GET", "/", host: "svc.a.run.123"), 400, "is an IP address, not a host name"),
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Decide_RefusedRequest_SaysWhyAndForwardsNothing(string name)
    {
        var (request, status, because) = RefusedRows[name];
        var decision = Policy.Decide(request);

        Assert.True(decision.Target is null, $"{name}: forwarded to {decision.Target}");
        Assert.Equal(status, decision.Refusal!.StatusCode);
        Assert.StartsWith("token-injector: ", decision.Refusal.Message, StringComparison.Ordinal);
        Assert.Contains(because, decision.Refusal.Message, StringComparison.Ordinal);
    }

    private static EgressRequest Request(string method, string target, string? host = null, string? tunnel = null) =>
        new(EgressEntry.Request, method, target, host, tunnel);

    private static EgressRequest Connect(string target, string? host = null) => new(EgressEntry.Connect, "CONNECT", target, host, null);
}
