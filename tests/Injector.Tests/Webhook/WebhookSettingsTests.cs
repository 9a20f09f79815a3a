using System.CommandLine;
using TokenInjector.Commands;
using TokenInjector.Configuration;
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

        Assert.Equal("0.0.0.0:8443", settings.ListenEndpoint.ToString());
        Assert.Equal("token-injector", settings.Namespace);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.ServiceAccountTimeout);
        Assert.Equal(9464, settings.Sidecar.AdminPort);
        Assert.Equal("10m", settings.Sidecar.CpuRequest);
        Assert.Equal("json", settings.Sidecar.LogFormat);
        Assert.False(settings.Sidecar.PrometheusScrape);
        Assert.Null(settings.KubeconfigFile);
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
