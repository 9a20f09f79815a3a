using System.Globalization;
using System.Net;
using TokenInjector.Configuration;
using TokenInjector.Plumbing;

namespace TokenInjector.Webhook;

/// <summary>The validated settings of <c>injector webhook</c>.</summary>
internal sealed record WebhookSettings
{
    public static readonly CommandOptions Command = new(
        "webhook",
        "Mutating admission webhook: injects the token-injector sidecar into pods labelled token-injector.dev/inject=true.",
        [
            Options.Listen, Options.TlsCertFile, Options.TlsKeyFile, Options.TlsReloadInterval, Options.Kubeconfig, Options.Namespace,
            Options.ServiceAccountTimeout, Options.ServiceAccountCacheTtl, Options.SidecarImage, Options.SidecarImagePullPolicy,
            Options.SidecarCpuRequest, Options.SidecarMemoryRequest, Options.SidecarMemoryLimit, Options.SidecarAdminPort,
            Options.SidecarLogFormat, Options.PrometheusScrape, Options.AllowHostNetwork, CommonOptions.LogFormat, CommonOptions.LogLevel, CommonOptions.Config,
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
        var listen = options.Single(Options.Listen)!;
        if (!IPEndPoint.TryParse(listen.Text, out var endpoint) || !listen.Text.Contains(':', StringComparison.Ordinal))
        {
            options.AddError(listen, Options.Listen, "is not HOST:PORT with a numeric host, e.g. 0.0.0.0:8443");
            endpoint = new IPEndPoint(IPAddress.Any, 0);
        }

        var certFile = RequiredFile(options, Options.TlsCertFile);
        var keyFile = RequiredFile(options, Options.TlsKeyFile);

        var kubeconfig = options.Single(Options.Kubeconfig);
        if (kubeconfig is not null && !File.Exists(kubeconfig.Text))
        {
            options.AddError(kubeconfig, Options.Kubeconfig, "does not exist");
        }

        var image = options.Single(Options.SidecarImage);
        if (image is null)
        {
            options.AddError(Options.SidecarImage, "is required: the image of the sidecar to inject");
        }
        else if (string.IsNullOrWhiteSpace(image.Text) || image.Text.Any(char.IsWhiteSpace))
        {
            options.AddError(image, Options.SidecarImage, "is not an image reference (no spaces)");
        }

        var cpuRequest = Quantity(options, Options.SidecarCpuRequest);
        var memoryRequest = Quantity(options, Options.SidecarMemoryRequest);
        var memoryLimit = Quantity(options, Options.SidecarMemoryLimit);

        var ownNamespace = options.String(Options.Namespace) ?? environment("POD_NAMESPACE");

        var settings = new WebhookSettings
        {
            ListenEndpoint = endpoint,
            TlsCertFile = certFile,
            TlsKeyFile = keyFile,
            TlsReloadInterval = options.Duration(Options.TlsReloadInterval, TimeSpan.Zero, TimeSpan.FromHours(1)),
            KubeconfigFile = kubeconfig?.Text,
            Namespace = string.IsNullOrWhiteSpace(ownNamespace) ? null : ownNamespace.Trim(),
            ServiceAccountTimeout = options.Duration(Options.ServiceAccountTimeout, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10)),
            ServiceAccountCacheTtl = options.Duration(Options.ServiceAccountCacheTtl, TimeSpan.Zero, TimeSpan.FromHours(1)),
            Sidecar = new SidecarDefaults
            {
                Image = image?.Text ?? string.Empty,
                ImagePullPolicy = options.Choice(Options.SidecarImagePullPolicy, new Dictionary<string, string>
                {
                    ["ifnotpresent"] = "IfNotPresent",
                    ["always"] = "Always",
                    ["never"] = "Never",
                }),
                CpuRequest = cpuRequest,
                MemoryRequest = memoryRequest,
                MemoryLimit = memoryLimit,
                AdminPort = options.Int(Options.SidecarAdminPort, 1, 65535),
                LogFormat = options.Choice(Options.SidecarLogFormat, new Dictionary<string, string> { ["json"] = "json", ["text"] = "text" }),
                PrometheusScrape = options.Bool(Options.PrometheusScrape),
                AllowHostNetwork = options.Bool(Options.AllowHostNetwork),
            },
            Logging = CommonOptions.Logging(options),
        };

        if (QuantityRules.TryParse(memoryRequest, out var request) && QuantityRules.TryParse(memoryLimit, out var limit)
            && request!.ToDecimal() > limit!.ToDecimal())
        {
            options.AddError(Options.SidecarMemoryRequest, $"'{memoryRequest}' is more than {Options.SidecarMemoryLimit.Flag} '{memoryLimit}'");
        }

        if (options.Errors.Count > 0)
        {
            throw new ConfigurationErrorException(options.Errors);
        }

        return settings;
    }

    private static string RequiredFile(ParsedOptions options, OptionSpec option)
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

    private static string Quantity(ParsedOptions options, OptionSpec option)
    {
        var value = options.Single(option)!;
        if (!QuantityRules.TryParse(value.Text, out _))
        {
            options.AddError(value, option, $"is not {QuantityRules.Expected}");
        }

        return value.Text;
    }

    /// <summary>The webhook's options; those named sidecar-* are the defaults of every sidecar it injects.</summary>
    public static class Options
    {
        public static readonly OptionSpec Listen = new("listen", "HOST:PORT", "HTTPS listener for /mutate /healthz /readyz /metrics", defaultValue: "0.0.0.0:8443");

        public static readonly OptionSpec TlsCertFile = new("tls-cert-file", "FILE", "PEM serving certificate (and chain); reloaded when the file changes");

        public static readonly OptionSpec TlsKeyFile = new("tls-key-file", "FILE", "PEM private key of the serving certificate; reloaded when the file changes");

        public static readonly OptionSpec TlsReloadInterval = new(
            "tls-reload-interval", "DURATION", "how often the certificate files are checked for changes", defaultValue: "10s");

        public static readonly OptionSpec Kubeconfig = new("kubeconfig", "FILE", "kubeconfig for service account look-ups (default: in-cluster config)");

        public static readonly OptionSpec Namespace = new(
            "namespace", "NAME", "the webhook's own namespace, whose pods are never touched (default: $POD_NAMESPACE)");

        public static readonly OptionSpec ServiceAccountTimeout = new(
            "service-account-timeout", "DURATION", "time limit of one service account look-up; past it the pod is admitted without a warning", defaultValue: "2s");

        public static readonly OptionSpec ServiceAccountCacheTtl = new(
            "service-account-cache-ttl", "DURATION", "how long a service account look-up is remembered", defaultValue: "30s");

        public static readonly OptionSpec SidecarImage = new("sidecar-image", "IMAGE", "image of the injected sidecar");

        public static readonly OptionSpec SidecarImagePullPolicy = new(
            "sidecar-image-pull-policy", "Always|IfNotPresent|Never", "pull policy of the injected sidecar", defaultValue: "IfNotPresent");

        public static readonly OptionSpec SidecarCpuRequest = new(
            "sidecar-cpu-request", "QUANTITY", "CPU request of the sidecar unless the pod's annotation sets one", defaultValue: "10m");

        public static readonly OptionSpec SidecarMemoryRequest = new(
            "sidecar-memory-request", "QUANTITY", "memory request of the sidecar unless the pod's annotation sets one", defaultValue: "48Mi");

        public static readonly OptionSpec SidecarMemoryLimit = new(
            "sidecar-memory-limit", "QUANTITY", "memory limit of the sidecar unless the pod's annotation sets one", defaultValue: "128Mi");

        public static readonly OptionSpec SidecarAdminPort = new(
            "sidecar-admin-port", "PORT", "port of the sidecar's /metrics /healthz /readyz listener",
            defaultValue: SidecarContract.AdminPort.ToString(CultureInfo.InvariantCulture));

        public static readonly OptionSpec SidecarLogFormat = new("sidecar-log-format", "text|json", "log format of the sidecar", defaultValue: "json");

        public static readonly OptionSpec PrometheusScrape = OptionSpec.Switch(
            "prometheus-scrape", "add prometheus.io/scrape, port and path annotations to injected pods that have none", false);

        public static readonly OptionSpec AllowHostNetwork = OptionSpec.Switch(
            "allow-host-network",
            "inject pods with hostNetwork: true (denied otherwise: the sidecar's loopback listeners would serve the pod's identity to the whole node)",
            false);
    }
}
