using TokenInjector.Configuration;

namespace TokenInjector.Tests.Configuration;

/// <summary>
/// The <c>;header=MODE</c> parameter of <c>--route</c> and <c>--egress-host</c> (and their annotations), in process:
/// what each form parses to, that an audience holding ';' or '=' is still taken verbatim, and the error for each
/// malformed parameter.
/// </summary>
public sealed class TargetParametersTests
{
    public static TheoryData<string, string, string?> AcceptedRoutes() => new()
    {
        { "8080=https://svc.a.run.app", "https://svc.a.run.app", null },
        { "8080=https://svc.a.run.app;header=proxy-authorization", "https://svc.a.run.app", "proxy-authorization" },
        { "8080=https://svc.a.run.app:8443;header=x-serverless-authorization=custom", "custom", "x-serverless-authorization" },
        { "8080=https://svc.a.run.app;header=authorization=a;header=proxy-authorization", "a;header=proxy-authorization", "authorization" },
        { "8080=https://svc.a.run.app=a;header=proxy-authorization", "a;header=proxy-authorization", null },
        { "8080=https://svc.a.run.app=x=y;z", "x=y;z", null },
    };

    [Theory]
    [MemberData(nameof(AcceptedRoutes))]
    public void RouteSpec_WithOrWithoutHeader_ParsesAudienceVerbatim(string text, string audience, string? header)
    {
        Assert.True(RouteSpec.TryParse(text, out var route, out var problem), problem);

        Assert.Equal("svc.a.run.app", route!.Host);
        Assert.Equal(audience, route.Audience);
        Assert.Equal(Mode(header), route.Header);
    }

    public static TheoryData<string, string, string?, string?> AcceptedEgressHosts() => new()
    {
        { "*.run.app", "*.run.app", null, null },
        { "*.run.app;header=x-serverless-authorization", "*.run.app", null, "x-serverless-authorization" },
        { "IAP.example.com;header=proxy-authorization=1234-abc.apps.googleusercontent.com", "iap.example.com", "1234-abc.apps.googleusercontent.com", "proxy-authorization" },
        { "api.example.com=aud;header=authorization", "api.example.com", "aud;header=authorization", null },
    };

    [Theory]
    [MemberData(nameof(AcceptedEgressHosts))]
    public void EgressHostSpec_WithOrWithoutHeader_ParsesAndWritesBackTheSame(string text, string pattern, string? audience, string? header)
    {
        Assert.True(EgressHostSpec.TryParse(text, out var spec, out var problem), problem);

        Assert.Equal(new EgressHostSpec(pattern, audience, Mode(header)), spec);
        Assert.True(EgressHostSpec.TryParse(spec.ToString(), out var again, out _));
        Assert.Equal(spec, again);
    }

    public static TheoryData<string, string> RefusedTails() => new()
    {
        { ";header=cookie", "has header 'cookie', which is not one of authorization|x-serverless-authorization|proxy-authorization" },
        { ";header=", "has header '', which is not one of" },
        { ";header=Proxy-Authorization", "has header 'Proxy-Authorization', which is not one of" },
        { ";header", "has parameter ';header' without a value; a parameter is ;header=MODE" },
        { ";header;header=authorization", "has parameter ';header' without a value" },
        { ";format=full", "has unknown parameter ';format='; the only parameter is ;header=MODE" },
        { ";header=authorization;header=proxy-authorization", "names ;header= twice" },
        { ";header=authorization=", "has an audience that is empty" },
    };

    [Theory]
    [MemberData(nameof(RefusedTails))]
    public void RouteAndEgressHost_BadParameter_RefusedWithTheSameMessage(string tail, string expected)
    {
        Assert.False(RouteSpec.TryParse("8080=https://svc.a.run.app" + tail, out _, out var routeProblem));
        Assert.False(EgressHostSpec.TryParse("svc.a.run.app" + tail, out _, out var hostProblem));

        Assert.Contains(expected, routeProblem, StringComparison.Ordinal);
        Assert.Contains(expected, hostProblem, StringComparison.Ordinal);
    }

    [Fact]
    public void SidecarFlags_BadHeader_IsAnExit2ErrorNamingTheFlagAndValue()
    {
        var parsed = SidecarSettings.Command.Parse(
            ["--route", "8080=https://svc.a.run.app;header=cookie", "--egress", "8081", "--egress-host", "*.run.app;header=x"], _ => null);

        var error = Assert.Throws<ConfigurationErrorException>(() => SidecarSettings.From(parsed, _ => null));

        Assert.Contains(error.Errors, e => e.StartsWith("--route: '8080=https://svc.a.run.app;header=cookie' has header 'cookie'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("--egress-host: '*.run.app;header=x' has header 'x'", StringComparison.Ordinal));
    }

    [Fact]
    public void EnvironmentList_HeaderParameterSurvivesTheCommaSplit()
    {
        var environment = new Dictionary<string, string>
        {
            ["TOKEN_INJECTOR_ROUTE"] = "8080=https://a.a.run.app;header=proxy-authorization=aud;x, 8081=https://b.a.run.app",
        };

        var settings = SidecarSettings.From(SidecarSettings.Command.Parse([], environment.GetValueOrDefault), environment.GetValueOrDefault);

        Assert.Equal([AuthHeaderMode.ProxyAuthorization, (AuthHeaderMode?)null], settings.Routes.Select(r => r.Header));
        Assert.Equal("aud;x", settings.Routes[0].Audience);
    }

    // The theories name modes by their flag names, since the enum is internal to the sidecar.
    private static AuthHeaderMode? Mode(string? name) => name is null ? null : AuthHeaderModes.ByName[name];
}
