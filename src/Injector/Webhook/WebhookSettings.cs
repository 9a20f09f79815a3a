using System.Net;
using TokenInjector.Configuration;
using TokenInjector.Hosting;

namespace TokenInjector.Webhook;

/// <summary>The validated settings of <c>injector webhook</c>.</summary>
internal sealed record WebhookSettings
{
    public static readonly CommandOptions Command = new(
        "webhook",
        "Mutating admission webhook: injects the token-injector sidecar into pods labelled token-injector.dev/inject=true.",
        [
            new("listen", "HOST:PORT", "HTTPS listener for /mutate /healthz /readyz /metrics", Default: "0.0.0.0:8443"),
            new("tls-cert-file", "FILE", "PEM serving certificate (and chain); reloaded when the file changes"),
            new("tls-key-file", "FILE", "PEM private key of the serving certificate; reloaded when the file changes"),
            new("tls-reload-interval", "DURATION", "how often the certificate files are checked for changes", Default: "10s"),
            new("kubeconfig", "FILE", "kubeconfig for service account look-ups (default: in-cluster config)"),
            new("namespace", "NAME", "the webhook's own namespace, whose pods are never touched (default: $POD_NAMESPACE)"),
            new("service-account-timeout", "DURATION", "time limit of one service account look-up; past it the pod is admitted without a warning", Default: "2s"),
            new("service-account-cache-ttl", "DURATION", "how long a service account look-up is remembered", Default: "30s"),
            new("sidecar-image", "IMAGE", "image of the injected sidecar"),
            new("sidecar-image-pull-policy", "Always|IfNotPresent|Never", "pull policy of the injected sidecar", Default: "IfNotPresent"),
            new("sidecar-cpu-request", "QUANTITY", "CPU request of the sidecar unless the pod's annotation sets one", Default: "10m"),
            new("sidecar-memory-request", "QUANTITY", "memory request of the sidecar unless the pod's annotation sets one", Default: "48Mi"),
            new("sidecar-memory-limit", "QUANTITY", "memory limit of the sidecar unless the pod's annotation sets one", Default: "128Mi"),
            new("sidecar-admin-port", "PORT", "port of the sidecar's /metrics /healthz /readyz listener", Default: "9464"),
            new("sidecar-log-format", "text|json", "log format of the sidecar", Default: "json"),
            new("prometheus-scrape", "BOOL", "add prometheus.io/scrape, port and path annotations to injected pods that have none", Default: "false"),
            new("log-format", "text|json", "log format; json prints one object per line with severity and message", Default: "text"),
            new("log-level", "LEVEL", "least severe level logged: debug, information, warning, error", Default: "information"),
            new(CommandOptions.ConfigOption, "FILE", "read these settings from a YAML or JSON file (keys are the option names)"),
        ]);

    public required IPEndPoint ListenEndpoint { get; init; }

    public required string TlsCertFile { get; init; }

    public required string TlsKeyFile { get; init; }

    public TimeSpan TlsReloadInterval { get; init; }

    public string? KubeconfigFile { get; init; }

    /// <summary>The webhook's own namespace, or null when neither the flag nor <c>POD_NAMESPACE</c> names one.</summary>
    public string? Namespace { get; init; }

    public TimeSpan ServiceAccountTimeout { get; init; }

    public TimeSpan ServiceAccountCacheTtl { get; init; }

    public required SidecarDefaults Sidecar { get; init; }

    public required LoggingSettings Logging { get; init; }

    /// <summary>Reads and validates every option; throws with all problems at once.</summary>
    public static WebhookSettings From(ParsedOptions options, Func<string, string?> environment)
    {
        var listen = options.Single("listen")!;
        if (!IPEndPoint.TryParse(listen.Text, out var endpoint) || !listen.Text.Contains(':', StringComparison.Ordinal))
        {
            options.AddError(listen, "listen", "is not HOST:PORT with a numeric host, e.g. 0.0.0.0:8443");
            endpoint = new IPEndPoint(IPAddress.Any, 0);
        }

        var certFile = RequiredFile(options, "tls-cert-file");
        var keyFile = RequiredFile(options, "tls-key-file");

        var kubeconfig = options.Single("kubeconfig");
        if (kubeconfig is not null && !File.Exists(kubeconfig.Text))
        {
            options.AddError(kubeconfig, "kubeconfig", "does not exist");
        }

        var image = options.Single("sidecar-image");
        if (image is null)
        {
            options.AddError("sidecar-image", "is required: the image of the sidecar to inject");
        }
        else if (string.IsNullOrWhiteSpace(image.Text) || image.Text.Any(char.IsWhiteSpace))
        {
            options.AddError(image, "sidecar-image", "is not an image reference (no spaces)");
        }

        var cpuRequest = Quantity(options, "sidecar-cpu-request");
        var memoryRequest = Quantity(options, "sidecar-memory-request");
        var memoryLimit = Quantity(options, "sidecar-memory-limit");

        var ownNamespace = options.String("namespace") ?? environment("POD_NAMESPACE");

        var settings = new WebhookSettings
        {
            ListenEndpoint = endpoint,
            TlsCertFile = certFile,
            TlsKeyFile = keyFile,
            TlsReloadInterval = options.Duration("tls-reload-interval", TimeSpan.Zero, TimeSpan.FromHours(1)),
            KubeconfigFile = kubeconfig?.Text,
            Namespace = string.IsNullOrWhiteSpace(ownNamespace) ? null : ownNamespace.Trim(),
            ServiceAccountTimeout = options.Duration("service-account-timeout", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10)),
            ServiceAccountCacheTtl = options.Duration("service-account-cache-ttl", TimeSpan.Zero, TimeSpan.FromHours(1)),
            Sidecar = new SidecarDefaults
            {
                Image = image?.Text ?? string.Empty,
                ImagePullPolicy = options.Choice("sidecar-image-pull-policy", new Dictionary<string, string>
                {
                    ["ifnotpresent"] = "IfNotPresent",
                    ["always"] = "Always",
                    ["never"] = "Never",
                }),
                CpuRequest = cpuRequest,
                MemoryRequest = memoryRequest,
                MemoryLimit = memoryLimit,
                AdminPort = options.Int("sidecar-admin-port", 1, 65535),
                LogFormat = options.Choice("sidecar-log-format", new Dictionary<string, string> { ["json"] = "json", ["text"] = "text" }),
                PrometheusScrape = options.Bool("prometheus-scrape"),
            },
            Logging = LoggingSettings.From(options),
        };

        if (QuantityRules.TryParse(memoryRequest, out var request) && QuantityRules.TryParse(memoryLimit, out var limit)
            && request!.ToDecimal() > limit!.ToDecimal())
        {
            options.AddError("sidecar-memory-request", $"'{memoryRequest}' is more than --sidecar-memory-limit '{memoryLimit}'");
        }

        if (options.Errors.Count > 0)
        {
            throw new ConfigurationErrorException(options.Errors);
        }

        return settings;
    }

    private static string RequiredFile(ParsedOptions options, string option)
    {
        var value = options.Single(option);
        if (value is null)
        {
            options.AddError(option, "is required: the webhook serves HTTPS only");
            return string.Empty;
        }

        if (!File.Exists(value.Text))
        {
            options.AddError(value, option, "does not exist");
        }

        return value.Text;
    }

    private static string Quantity(ParsedOptions options, string option)
    {
        var value = options.Single(option)!;
        if (!QuantityRules.TryParse(value.Text, out _))
        {
            options.AddError(value, option, $"is not {QuantityRules.Expected}");
        }

        return value.Text;
    }
}
