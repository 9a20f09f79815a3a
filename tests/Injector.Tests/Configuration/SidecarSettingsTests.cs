using System.Net;
using TokenInjector.Configuration;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Configuration;

/// <summary>Each sidecar option's validation, in process: what it accepts, and the error for what it does not.</summary>
public sealed class SidecarSettingsTests
{
    public static TheoryData<string, string[], string> Rejected() => new()
    {
        { "audience with a space", ["--audience", "a b"], "--audience: 'a b' has a character that is not printable ASCII" },
        { "audience too long", ["--audience", new string('a', 1025)], "an audience has at most 1024" },
        { "route without https", ["--route", "8080=http://svc.a.run.app"], "--route: '8080=http://svc.a.run.app' has upstream 'http://svc.a.run.app'" },
        { "route port", ["--route", "99999=https://svc.a.run.app"], "--route: '99999=https://svc.a.run.app' does not start with a local port from 1 to 65535" },
        { "route with a path", ["--route", "8080=https://svc.a.run.app/x"], "which is not https://HOST[:PORT] with no path" },
        { "route port twice", ["--route", "8080=https://a.a.run.app", "--route", "8080=https://b.a.run.app"], "uses local port 8080 again" },
        { "resolve", ["--resolve", "svc:443"], "--resolve: 'svc:443' is not HOST:PORT:ADDRESS with a numeric ADDRESS" },
        { "resolve to a name", ["--resolve", "svc:443:example.com"], "--resolve: 'svc:443:example.com' is not HOST:PORT:ADDRESS" },
        { "route listen address", ["--route-listen-address", "localhost"], "--route-listen-address: 'localhost' is not a numeric IP address" },
        { "non-loopback routes", ["--route-listen-address", "0.0.0.0"], "is not a loopback address" },
        { "allow-non-loopback-routes", ["--allow-non-loopback-routes", "perhaps"], "--allow-non-loopback-routes: 'perhaps' is not a boolean" },
        { "upstream CA file", ["--upstream-ca-file", "/nonexistent/ca.pem"], "--upstream-ca-file: '/nonexistent/ca.pem' does not exist" },
        { "auth header", ["--auth-header", "cookie"], "--auth-header: 'cookie' is not one of: authorization, x-serverless-authorization" },
        { "socket", ["--socket", "relative.sock"], "--socket: 'relative.sock' is not a file path" },
        { "socket mode", ["--socket-mode", "999"], "--socket-mode: '999' is not an octal file mode" },
        { "token dir", ["--token-dir", "tokens"], "--token-dir: 'tokens' is not an absolute directory path" },
        { "admin address", ["--admin-address", "9464"], "--admin-address: '9464' is not HOST:PORT with a numeric host" },
        { "token source", ["--token-source", "vault"], "--token-source: 'vault' is not one of: metadata, adc" },
        { "dynamic audiences", ["--allow-dynamic-audiences", "maybe"], "--allow-dynamic-audiences: 'maybe' is not a boolean" },
        { "max dynamic audiences", ["--max-dynamic-audiences", "-1"], "--max-dynamic-audiences: '-1' is not a whole number from 0 to 10000" },
        { "dynamic audience idle", ["--dynamic-audience-idle", "2d"], "--dynamic-audience-idle: '2d' is not a duration from 1s to 86400s" },
        { "fetch timeout", ["--fetch-timeout", "50ms"], "--fetch-timeout: '50ms' is not a duration from 100ms to 300s" },
        { "drain timeout", ["--drain-timeout", "soon"], "--drain-timeout: 'soon' is not a duration from 0ms to 3600s" },
        { "log format", ["--log-format", "xml"], "--log-format: 'xml' is not one of: text, json" },
        { "log level", ["--log-level", "loud"], "--log-level: 'loud' is not one of: information, info, debug, warning, error" },
        { "nothing to serve", ["--allow-dynamic-audiences", "false"], "--audience: no audience or route is configured and dynamic audiences are off" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void From_BadValue_IsAnErrorNamingOptionAndValue(string name, string[] args, string expected)
    {
        var error = Assert.Throws<ConfigurationErrorException>(() => From(args));

        Assert.True(error.Errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"{name}: {string.Join(" | ", error.Errors)}");
    }

    [Fact]
    public void From_NoOptions_TakesTheDefaults()
    {
        var settings = From([]);

        Assert.Empty(settings.Audiences);
        Assert.Empty(settings.Routes);
        Assert.Equal(IPAddress.Loopback, settings.RouteListenAddress);
        Assert.Equal(AuthHeaderMode.Authorization, settings.AuthHeader);
        Assert.Equal(SidecarContract.SocketPath, settings.SocketPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, settings.SocketMode);
        Assert.Null(settings.TokenDirectory);
        Assert.Equal(new IPEndPoint(IPAddress.Any, SidecarContract.AdminPort), settings.AdminEndpoint);
        Assert.Equal(TokenSourceKind.Metadata, settings.TokenSource);
        Assert.True(settings.AllowDynamicAudiences);
        Assert.Equal(64, settings.MaxDynamicAudiences);
        Assert.Equal(TimeSpan.FromMinutes(10), settings.DynamicAudienceIdle);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.FetchTimeout);
        Assert.Equal(TimeSpan.FromSeconds(25), settings.DrainTimeout);
        Assert.False(settings.Logging.Json);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, settings.Logging.MinimumLevel);
    }

    [Fact]
    public void From_EveryOptionGiven_IsRead()
    {
        using var directory = new TempDirectory();
        var ca = directory.File("ca.pem");
        File.WriteAllText(ca, string.Empty);

        var settings = From(
        [
            "--audience", "https://a.example", "--audience", "https://a.example", "--route", "8080=https://svc.a.run.app:8443=custom",
            "--resolve", "svc.a.run.app:8443:127.0.0.2", "--route-listen-address", "0.0.0.0", "--allow-non-loopback-routes",
            "--upstream-ca-file", ca, "--auth-header", "x-serverless-authorization", "--socket", directory.File("t.sock"),
            "--socket-mode", "0600", "--token-dir", "/tokens", "--admin-address", "127.0.0.1:0", "--token-source", "adc",
            "--allow-dynamic-audiences", "false", "--max-dynamic-audiences", "3", "--dynamic-audience-idle", "90s",
            "--fetch-timeout", "500ms", "--drain-timeout", "1m", "--log-format", "json", "--log-level", "debug",
        ]);

        Assert.Equal(["https://a.example", "custom"], settings.Audiences);
        var route = Assert.Single(settings.Routes);
        Assert.Equal((8080, "svc.a.run.app", 8443, "custom"), (route.ListenPort, route.Host, route.UpstreamPort, route.Audience));
        Assert.Equal(IPAddress.Parse("127.0.0.2"), Assert.Single(settings.Resolves).Address);
        Assert.Equal(IPAddress.Any, settings.RouteListenAddress);
        Assert.Equal(ca, settings.UpstreamCaFile);
        Assert.Equal(AuthHeaderMode.XServerlessAuthorization, settings.AuthHeader);
        Assert.Equal(directory.File("t.sock"), settings.SocketPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, settings.SocketMode);
        Assert.Equal("/tokens", settings.TokenDirectory);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 0), settings.AdminEndpoint);
        Assert.Equal(TokenSourceKind.Adc, settings.TokenSource);
        Assert.False(settings.AllowDynamicAudiences);
        Assert.Equal(3, settings.MaxDynamicAudiences);
        Assert.Equal(TimeSpan.FromSeconds(90), settings.DynamicAudienceIdle);
        Assert.Equal(TimeSpan.FromMilliseconds(500), settings.FetchTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), settings.DrainTimeout);
        Assert.True(settings.Logging.Json);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, settings.Logging.MinimumLevel);
    }

    [Fact]
    public void From_ManyBadValues_ReportsEveryOneAtOnce()
    {
        var error = Assert.Throws<ConfigurationErrorException>(() => From(
            ["--route", "x", "--audience", "a b", "--socket-mode", "9", "--fetch-timeout", "soon", "--admin-address", "anywhere"]));

        Assert.Equal(5, error.Errors.Count);
        Assert.Equal(["--audience", "--route", "--admin-address", "--socket-mode", "--fetch-timeout"], error.Errors.Select(e => e[..e.IndexOf(':', StringComparison.Ordinal)]));
    }

    private static SidecarSettings From(string[] args) => SidecarSettings.From(SidecarSettings.Command.Parse(args, _ => null));
}
