using TokenInjector.Configuration;

namespace TokenInjector.Tests.Configuration;

/// <summary>
/// A host is canonicalised once (<see cref="HostName"/>), wherever it is written: a route's upstream, a
/// <c>--resolve</c> entry and an egress allowlist entry name the same host however it is spelled, so a
/// <c>--resolve</c> always applies to the route or egress host it names. Before, the route took Uri's form (trailing dot
/// kept), <c>--resolve</c> only lower case (Unicode kept), so <c>--resolve bücher.example:443:…</c> never applied to the
/// route <c>https://bücher.example</c>, whose host was <c>xn--bcher-kva.example</c>.
/// </summary>
public sealed class HostSpellingTests
{
    public static TheoryData<string, string, string> Spellings => new()
    {
        { "as is", "svc-abc.a.run.app", "svc-abc.a.run.app" },
        { "upper case", "SVC-ABC.A.RUN.APP", "svc-abc.a.run.app" },
        { "trailing dot", "svc-abc.a.run.app.", "svc-abc.a.run.app" },
        { "Unicode", "bücher.example", "xn--bcher-kva.example" },
        { "Unicode upper case", "BÜCHER.example", "xn--bcher-kva.example" },
        { "punycode", "xn--bcher-kva.example", "xn--bcher-kva.example" },
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public void RouteResolveAndEgressHost_NameOneHost(string name, string spelling, string canonical)
    {
        Assert.True(RouteSpec.TryParse($"8080=https://{spelling}", out var route, out var routeProblem), $"{name}: {routeProblem}");
        Assert.True(ResolveSpec.TryParse($"{spelling}:443:127.0.0.1", out var resolve), name);
        Assert.True(EgressHostSpec.TryParse(spelling, out var egress, out var egressProblem), $"{name}: {egressProblem}");

        Assert.Equal(canonical, route!.Host);
        Assert.Equal("https://" + canonical, route.Audience);
        Assert.Equal(canonical, resolve!.Host);
        Assert.Equal(canonical, egress!.Pattern);
    }

    public static TheoryData<string, string> NotHosts => new()
    {
        { "underscore", "svc_abc.run.app" },
        { "all-digit top-level label", "svc.run.123" },
        { "punycode that does not decode", "xn--zz.example" },
    };

    [Theory]
    [MemberData(nameof(NotHosts))]
    public void RouteResolveAndEgressHost_RefuseOneWay(string name, string text)
    {
        Assert.False(RouteSpec.TryParse($"8080=https://{text}", out _, out _), name);
        Assert.False(ResolveSpec.TryParse($"{text}:443:127.0.0.1", out _), name);
        Assert.False(EgressHostSpec.TryParse(text, out _, out _), name);
    }

    [Theory]
    [InlineData("8080=https://127.0.0.1:8443", "127.0.0.1")]
    [InlineData("8080=https://[::1]:8443", "[::1]")]
    public void Route_ToAnAddress_KeepsIt(string text, string host)
    {
        Assert.True(RouteSpec.TryParse(text, out var route, out var problem), problem);
        Assert.Equal(host, route!.Host);
    }
}
