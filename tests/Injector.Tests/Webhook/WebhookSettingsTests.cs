using System.CommandLine;
using TokenInjector.Commands;
using TokenInjector.Configuration;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

public sealed class WebhookSettingsTests : IDisposable
{
    private readonly string _cert = Path.GetTempFileName();
    private readonly string _key = Path.GetTempFileName();

    [Fact]
    public void From_MinimalArguments_TakesTheDefaults()
    {
        var settings = Parse(["--tls-cert-file", _cert, "--tls-key-file", _key, "--sidecar-image", "img:1"], new() { ["POD_NAMESPACE"] = "token-injector" });

        Assert.Equal("0.0.0.0:10250", settings.ListenEndpoint.ToString());
        Assert.Null(settings.SelfManaged);
        Assert.Equal("token-injector", settings.Namespace);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.ServiceAccountTimeout);
        Assert.Equal(9464, settings.Sidecar.AdminPort);
        Assert.Equal("10m", settings.Sidecar.CpuRequest);
        Assert.Equal("json", settings.Sidecar.LogFormat);
        Assert.False(settings.Sidecar.PrometheusScrape);
        Assert.Null(settings.KubeconfigFile);
    }

    [Fact]
    public void From_TlsSecret_KeepsTheCertificateWithTheDefaultLifetimes()
    {
        var settings = Parse(
            ["--tls-secret", "webhook-tls", "--tls-dns-name", "hook.ns.svc", "--tls-dns-name", "Hook.NS.svc.cluster.local.", "--mutating-webhook-configuration", "hook", "--sidecar-image", "i"],
            new() { ["POD_NAMESPACE"] = "ns" });

        var kept = Assert.IsType<SelfManagedCertificateOptions>(settings.SelfManaged);
        Assert.Null(settings.TlsCertFile);
        Assert.Equal(("webhook-tls", "ns"), (kept.SecretName, kept.Namespace));
        Assert.Equal(["hook.ns.svc", "hook.ns.svc.cluster.local"], kept.DnsNames);
        Assert.Equal(("hook", (string?)null), (kept.MutatingWebhookConfiguration, kept.ValidatingWebhookConfiguration));
        Assert.Equal((TimeSpan.FromHours(8760), TimeSpan.FromHours(2160), TimeSpan.FromHours(720)), (kept.CaLifetime, kept.ServingCertificateLifetime, kept.RenewBefore));
        Assert.Equal((TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)), (kept.PollInterval, kept.RotationOverlap));
    }

    /// <summary>Each bad way to ask for the certificate, through the real command line: exit 2 and the one line that says what to do.</summary>
    public static TheoryData<string, string[], string> BadCertificateSources => new()
    {
        { "files and a Secret", ["--tls-secret", "s", "--tls-cert-file", "/etc/hostname", "--tls-key-file", "/etc/hostname"], "--tls-secret: cannot be given with --tls-cert-file/--tls-key-file" },
        { "neither", [], "--tls-secret: is required unless --tls-cert-file and --tls-key-file are given" },
        { "a Secret without DNS names", ["--tls-secret", "s", "--mutating-webhook-configuration", "m"], "--tls-dns-name: is required with --tls-secret" },
        { "a Secret without configurations", ["--tls-secret", "s", "--tls-dns-name", "a.b.svc"], "--mutating-webhook-configuration: or --validating-webhook-configuration is required" },
        { "a Secret outside any namespace", ["--tls-secret", "s", "--tls-dns-name", "a.b.svc", "--validating-webhook-configuration", "v", "--namespace", ""], "--namespace: is required with --tls-secret" },
        { "a Secret name that is no name", ["--tls-secret", "Web_Hook", "--tls-dns-name", "a.b.svc", "--validating-webhook-configuration", "v"], "--tls-secret: 'Web_Hook' is not a Kubernetes object name" },
        {
            "renewal past the CA's lifetime",
            ["--tls-secret", "s", "--tls-dns-name", "a.b.svc", "--validating-webhook-configuration", "v", "--ca-lifetime", "24h", "--renew-before", "48h"],
            "--renew-before: '48h' is not shorter than --ca-lifetime '24h'"
        },
        {
            "renewal as long as the serving certificate's lifetime",
            ["--tls-secret", "s", "--tls-dns-name", "a.b.svc", "--validating-webhook-configuration", "v", "--serving-certificate-lifetime", "10h", "--renew-before", "10h"],
            "--renew-before: '10h' is not shorter than --serving-certificate-lifetime '10h'"
        },
        { "polling too often", ["--tls-secret", "s", "--tls-dns-name", "a.b.svc", "--validating-webhook-configuration", "v", "--tls-reload-interval", "100ms"], "--tls-reload-interval: must be at least 1s with --tls-secret" },
    };

    [Theory]
    [MemberData(nameof(BadCertificateSources))]
    public async Task Webhook_BadCertificateSource_ExitsWithTwoAndSaysWhy(string name, string[] args, string expected)
    {
        var (exitCode, _, stderr) = await ChildProcess.RunAsync(
            TestPrograms.Injector, ["webhook", "--sidecar-image", "i", "--namespace", "token-injector", .. args]).Bounded();

        Assert.True(exitCode == 2, $"{name}: exit {exitCode}, stderr: {stderr}");
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void From_EnvironmentVariables_AreRead()
    {
        var settings = Parse([], new()
        {
            ["TOKEN_INJECTOR_TLS_CERT_FILE"] = _cert,
            ["TOKEN_INJECTOR_TLS_KEY_FILE"] = _key,
            ["TOKEN_INJECTOR_SIDECAR_IMAGE"] = "img:2",
            ["TOKEN_INJECTOR_PROMETHEUS_SCRAPE"] = "true",
            ["TOKEN_INJECTOR_NAMESPACE"] = "from-flag-env",
            ["POD_NAMESPACE"] = "ignored",
        });

        Assert.Equal("img:2", settings.Sidecar.Image);
        Assert.True(settings.Sidecar.PrometheusScrape);
        Assert.Equal("from-flag-env", settings.Namespace);
    }

    [Fact]
    public void From_ManyBadValues_ReportsEveryOneAtOnce()
    {
        var error = Assert.Throws<ConfigurationErrorException>(() => Parse(
            ["--listen", "nowhere", "--tls-cert-file", "/no/such/cert", "--sidecar-cpu-request", "lots", "--sidecar-admin-port", "0", "--prometheus-scrape", "sometimes", "--bogus", "x"],
            []));

        Assert.Contains(error.Errors, e => e.StartsWith("unknown option '--bogus'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("--listen: 'nowhere'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("--tls-cert-file: '/no/such/cert' does not exist", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("--tls-key-file: is required", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("--sidecar-image: is required", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("--sidecar-cpu-request: 'lots'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("--sidecar-admin-port: '0'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("--prometheus-scrape: 'sometimes'", StringComparison.Ordinal));
    }

    [Fact]
    public void From_MemoryRequestAboveLimit_IsAnError()
    {
        var error = Assert.Throws<ConfigurationErrorException>(() => Parse(
            ["--tls-cert-file", _cert, "--tls-key-file", _key, "--sidecar-image", "i", "--sidecar-memory-request", "1Gi", "--sidecar-memory-limit", "64Mi"], []));

        Assert.Contains(error.Errors, e => e.StartsWith("--sidecar-memory-request", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_BadArguments_ExitsWithTwo()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var code = await InjectorCommandLine.RunAsync(["webhook", "--listen", "nowhere", "--unknown-flag"], timeout.Token).WaitAsync(timeout.Token);

        Assert.Equal(2, code);
    }

    [Fact]
    public async Task RunAsync_Help_ExitsWithZeroWithoutStarting()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        Assert.Equal(0, await InjectorCommandLine.RunAsync(["webhook", "--help"], timeout.Token).WaitAsync(timeout.Token));
    }

    [Fact]
    public void HelpText_ListsEveryOption()
    {
        using var output = new StringWriter();
        WebhookSettings.Command.Definition.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = output });
        var help = output.ToString();

        foreach (var option in WebhookSettings.Command.Options)
        {
            Assert.Contains(option.Flag, help, StringComparison.Ordinal);
        }
    }

    public void Dispose()
    {
        File.Delete(_cert);
        File.Delete(_key);
    }

    private static WebhookSettings Parse(string[] args, Dictionary<string, string> environment)
    {
        string? Lookup(string name) => environment.TryGetValue(name, out var value) ? value : null;
        return WebhookSettings.From(WebhookSettings.Command.Parse(args, Lookup), Lookup);
    }
}
