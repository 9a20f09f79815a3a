using TokenInjector.Configuration;

namespace TokenInjector.Tests.Configuration;

/// <summary>Each sidecar option's validation, in process: what it accepts, and the error for what it does not.</summary>
public sealed class SidecarSettingsTests
{
    public static TheoryData<string, string[], string> Rejected() => new()
    {
        { "audience with a space", ["--audience", "a b"], "--audience: 'a b' has ' ' (a space) at position 2, which is not printable ASCII" },
        { "audience too long", ["--audience", new string('a', 1025)], "an audience has at most 1024" },
        { "route without https", ["--route", "8080=http://svc.a.run.app"], "--route: '8080=http://svc.a.run.app' has upstream 'http://svc.a.run.app'" },
        { "route port", ["--route", "99999=https://svc.a.run.app"], "--route: '99999=https://svc.a.run.app' does not start with a local port from 1 to 65535" },
        { "route with a path", ["--route", "8080=https://svc.a.run.app/x"], "which is not https://HOST[:PORT] with no path" },
        { "route port twice", ["--route", "8080=https://a.a.run.app", "--route", "8080=https://b.a.run.app"], "uses local port 8080 again" },
        { "resolve", ["--resolve", "svc:443"], "--resolve: 'svc:443' is not HOST:PORT:ADDRESS[:PORT] with a numeric ADDRESS" },
        { "resolve to a name", ["--resolve", "svc:443:example.com"], "--resolve: 'svc:443:example.com' is not HOST:PORT:ADDRESS" },
        { "route listen address", ["--listen-address", "localhost"], "--listen-address: 'localhost' is not a numeric IP address" },
        { "non-loopback routes", ["--listen-address", "0.0.0.0"], "is not a loopback address" },
        { "allow-non-loopback-listeners", ["--allow-non-loopback-listeners", "perhaps"], "--allow-non-loopback-listeners: 'perhaps' is not a boolean" },
        { "metadata port", ["--metadata", "80a"], "--metadata: '80a' is not a local port from 1 to 65535" },
        { "metadata port of a route", ["--metadata", "8080", "--route", "8080=https://a.a.run.app"], "--metadata: '8080' is also a route's or the egress listener's local port" },
        { "metadata off loopback", ["--metadata", "8988", "--listen-address", "10.0.0.1"], "--listen-address: '10.0.0.1' is not a loopback address" },
        { "upstream CA file", ["--upstream-ca-file", "/nonexistent/ca.pem"], "--upstream-ca-file: '/nonexistent/ca.pem' does not exist" },
        { "auth header", ["--auth-header", "cookie"], "--auth-header: 'cookie' is not one of: authorization, x-serverless-authorization, proxy-authorization" },
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
        { "egress port", ["--egress", "0"], "--egress: '0' is not a local port from 1 to 65535" },
        { "egress port not a number", ["--egress", "http"], "--egress: 'http' is not a local port from 1 to 65535" },
        { "egress on a route's port", ["--route", "8080=https://svc.a.run.app", "--egress", "8080"], "--egress: '8080' is also a route's local port; each listener needs its own port" },
        { "egress host without egress", ["--egress-host", "*.run.app"], "--egress-host: is given without --egress, so no listener would use it" },
        { "egress host with a star inside", ["--egress", "8081", "--egress-host", "svc.*.run.app"], "--egress-host: 'svc.*.run.app' has pattern 'svc.*.run.app'; a pattern is a host or '*.' and a suffix" },
        { "egress host bare star", ["--egress", "8081", "--egress-host", "*"], "has pattern '*'; a pattern is a host or '*.' and a suffix" },
        { "egress host not a name", ["--egress", "8081", "--egress-host", "svc_a.run.app"], "has host 'svc_a.run.app', which is not a DNS host name" },
        { "egress host suffix not a name", ["--egress", "8081", "--egress-host", "*.run_app"], "has suffix 'run_app', which is not a DNS host name" },
        { "egress host an IP address", ["--egress", "8081", "--egress-host", "10.0.0.1"], "has host '10.0.0.1', which is an IP address, not a host name" },
        { "egress host audience", ["--egress", "8081", "--egress-host", "svc.run.app=a b"], "--egress-host: 'svc.run.app=a b' has an audience that has ' ' (a space)" },
        { "egress host twice", ["--egress", "8081", "--egress-host", "SVC.run.app", "--egress-host", "svc.run.app.=x"], "repeats the pattern svc.run.app; each host has one audience" },
        { "nothing to serve", ["--allow-dynamic-audiences", "false"], "--audience: no audience or route is configured and dynamic audiences are off" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void From_BadValue_IsAnErrorNamingOptionAndValue(string name, string[] args, string expected)
    {
        var error = Assert.Throws<ConfigurationErrorException>(() => From(args));

        Assert.True(error.Errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"{name}: {string.Join(" | ", error.Errors)}");
    }

    /// <summary>Each setting: its value with no options, and the options that set it to another.</summary>
    public static TheoryData<string, string, string[], string> Accepted() => new()
    {
        { nameof(SidecarSettings.Audiences), "", ["--audience", "https://a", "--audience", "https://a", "--route", "8080=https://s.example=custom"], "https://a,custom" },
        { nameof(SidecarSettings.Routes), "", ["--route", "8080=https://s.example:8443=custom"], "8080->s.example:8443 for custom" },
        { nameof(SidecarSettings.EgressPort), "", ["--egress", "8081"], "8081" },
        { nameof(SidecarSettings.EgressHosts), "", ["--egress", "8081"], "*.run.app" },
        { nameof(SidecarSettings.EgressHosts), "", ["--egress", "8081", "--egress-host", "*.Example.COM", "--egress-host", "bücher.example=custom"], "*.example.com,xn--bcher-kva.example=custom" },
        { nameof(SidecarSettings.Resolves), "", ["--resolve", "s.example:8443:127.0.0.2"], "s.example:8443->127.0.0.2" },
        { nameof(SidecarSettings.ListenAddress), "127.0.0.1", ["--listen-address", "0.0.0.0", "--allow-non-loopback-listeners"], "0.0.0.0" },
        { nameof(SidecarSettings.MetadataPort), "", ["--metadata", "8988"], "8988" },
        { nameof(SidecarSettings.UpstreamCaFile), "", ["--upstream-ca-file", "/etc/hostname"], "/etc/hostname" },
        { nameof(SidecarSettings.AuthHeader), "Authorization", ["--auth-header", "x-serverless-authorization"], "XServerlessAuthorization" },
        { nameof(SidecarSettings.SocketPath), SidecarContract.SocketPath, ["--socket", "/tmp/t.sock"], "/tmp/t.sock" },
        { nameof(SidecarSettings.SocketMode), "432", ["--socket-mode", "0600"], "384" },
        { nameof(SidecarSettings.TokenDirectory), "", ["--token-dir", "/tokens"], "/tokens" },
        { nameof(SidecarSettings.AdminEndpoint), "0.0.0.0:9464", ["--admin-address", "127.0.0.1:0"], "127.0.0.1:0" },
        { nameof(SidecarSettings.TokenSource), "Metadata", ["--token-source", "adc"], "Adc" },
        { nameof(SidecarSettings.AllowDynamicAudiences), "True", ["--allow-dynamic-audiences", "false", "--audience", "a"], "False" },
        { nameof(SidecarSettings.MaxDynamicAudiences), "64", ["--max-dynamic-audiences", "3"], "3" },
        { nameof(SidecarSettings.DynamicAudienceIdle), "00:10:00", ["--dynamic-audience-idle", "90s"], "00:01:30" },
        { nameof(SidecarSettings.FetchTimeout), "00:00:10", ["--fetch-timeout", "500ms"], "00:00:00.5000000" },
        { nameof(SidecarSettings.DrainTimeout), "00:00:25", ["--drain-timeout", "1m"], "00:01:00" },
        { nameof(SidecarSettings.Logging), "LoggingSettings { Json = False, MinimumLevel = Information }", ["--log-format", "json", "--log-level", "debug"], "LoggingSettings { Json = True, MinimumLevel = Debug }" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void From_EachSetting_HasItsDefault_AndTakesAGivenValue(string setting, string byDefault, string[] args, string given)
    {
        Assert.Equal(byDefault, Describe(From([]), setting));
        Assert.Equal(given, Describe(From(args), setting));
    }

    [Fact]
    public void From_ManyBadValues_ReportsEveryOneAtOnce()
    {
        var error = Assert.Throws<ConfigurationErrorException>(() => From(
            ["--route", "x", "--audience", "a b", "--socket-mode", "9", "--fetch-timeout", "soon", "--admin-address", "anywhere"]));

        Assert.Equal(5, error.Errors.Count);
        Assert.Equal(["--audience", "--route", "--admin-address", "--socket-mode", "--fetch-timeout"], error.Errors.Select(e => e[..e.IndexOf(':', StringComparison.Ordinal)]));
    }

    private static SidecarSettings From(string[] args) => SidecarSettings.From(SidecarSettings.Command.Parse(args, _ => null), _ => null);

    private static string Describe(SidecarSettings settings, string setting) => typeof(SidecarSettings).GetProperty(setting)!.GetValue(settings) switch
    {
        null => string.Empty,
        IEnumerable<RouteSpec> routes => string.Join(",", routes.Select(r => $"{r.ListenPort}->{r.Host}:{r.UpstreamPort} for {r.Audience}")),
        IEnumerable<EgressHostSpec> hosts => string.Join(",", hosts),
        IEnumerable<ResolveSpec> resolves => string.Join(",", resolves.Select(r => $"{r.Host}:{r.Port}->{r.Address}")),
        IEnumerable<string> texts => string.Join(",", texts),
        UnixFileMode mode => ((int)mode).ToString(System.Globalization.CultureInfo.InvariantCulture),
        var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
    };
}
