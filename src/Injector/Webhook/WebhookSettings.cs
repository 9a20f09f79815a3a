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
            Options.Listen, Options.TlsCertFile, Options.TlsKeyFile, Options.TlsSecret, Options.TlsDnsName, Options.MutatingWebhookConfiguration,
            Options.ValidatingWebhookConfiguration, Options.CaLifetime, Options.ServingCertificateLifetime, Options.RenewBefore, Options.RotationOverlap,
            Options.TlsReloadInterval, Options.Kubeconfig, Options.Namespace,
            Options.ServiceAccountTimeout, Options.ServiceAccountCacheTtl, Options.SidecarImage, Options.SidecarImagePullPolicy,
            Options.SidecarCpuRequest, Options.SidecarMemoryRequest, Options.SidecarMemoryLimit, Options.SidecarAdminPort,
            Options.SidecarLogFormat, Options.PrometheusScrape, Options.AllowHostNetwork, CommonOptions.LogFormat, CommonOptions.LogLevel, CommonOptions.Config,
        ]);

    public required IPEndPoint ListenEndpoint { get; init; }

    /// <summary>The serving certificate's PEM file, or null when the webhook keeps its certificate itself (<see cref="SelfManaged"/>).</summary>
    public string? TlsCertFile { get; init; }

    public string? TlsKeyFile { get; init; }

    /// <summary>The certificate the webhook keeps in a Secret of its own, or null when it serves files.</summary>
    public SelfManagedCertificateOptions? SelfManaged { get; init; }

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
            options.AddError(listen, Options.Listen, "is not HOST:PORT with a numeric host, e.g. 0.0.0.0:10250");
            endpoint = new IPEndPoint(IPAddress.Any, 0);
        }

        var ownNamespace = options.String(Options.Namespace) ?? environment("POD_NAMESPACE");
        ownNamespace = string.IsNullOrWhiteSpace(ownNamespace) ? null : ownNamespace.Trim();
        var reloadInterval = options.Duration(Options.TlsReloadInterval, TimeSpan.Zero, TimeSpan.FromHours(1));

        string? certFile = null;
        string? keyFile = null;
        SelfManagedCertificateOptions? selfManaged = null;
        var secret = options.Single(Options.TlsSecret);
        var fromFiles = options.Single(Options.TlsCertFile) is not null || options.Single(Options.TlsKeyFile) is not null;
        if (secret is not null && fromFiles)
        {
            options.AddError(
                Options.TlsSecret,
                $"cannot be given with {Options.TlsCertFile.Flag}/{Options.TlsKeyFile.Flag}: the certificate is either kept by the webhook in a Secret or read from files, not both");
        }
        else if (secret is not null)
        {
            selfManaged = SelfManagedFrom(options, secret, ownNamespace, reloadInterval);
        }
        else if (fromFiles)
        {
            certFile = RequiredFile(options, Options.TlsCertFile);
            keyFile = RequiredFile(options, Options.TlsKeyFile);
        }
        else
        {
            options.AddError(
                Options.TlsSecret,
                $"is required unless {Options.TlsCertFile.Flag} and {Options.TlsKeyFile.Flag} are given: the webhook serves HTTPS only, with a certificate it keeps in this Secret or one from files");
        }

        var kubeconfig = options.Single(Options.Kubeconfig);
        if (kubeconfig is not null && !File.Exists(kubeconfig.Text))
        {
            options.AddError(kubeconfig, Options.Kubeconfig, "does not exist");
        }

        var settings = new WebhookSettings
        {
            ListenEndpoint = endpoint,
            TlsCertFile = certFile,
            TlsKeyFile = keyFile,
            SelfManaged = selfManaged,
            TlsReloadInterval = reloadInterval,
            KubeconfigFile = kubeconfig?.Text,
            Namespace = ownNamespace,
            ServiceAccountTimeout = options.Duration(Options.ServiceAccountTimeout, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10)),
            ServiceAccountCacheTtl = options.Duration(Options.ServiceAccountCacheTtl, TimeSpan.Zero, TimeSpan.FromHours(1)),
            Sidecar = SidecarDefaults.From(options),
            Logging = CommonOptions.Logging(options),
        };

        if (options.Errors.Count > 0)
        {
            throw new ConfigurationErrorException(options.Errors);
        }

        return settings;
    }

    private static readonly TimeSpan MinimumPollInterval = TimeSpan.FromSeconds(1);

    private static string RequiredFile(ParsedOptions options, OptionSpec option)
    {
        var value = options.Single(option);
        if (value is null)
        {
            options.AddError(option, "is required: the webhook serves HTTPS only, with a certificate and its key from files (or a Secret it keeps, --tls-secret)");
            return string.Empty;
        }

        if (!File.Exists(value.Text))
        {
            options.AddError(value, option, "does not exist");
        }

        return value.Text;
    }

    private static SelfManagedCertificateOptions SelfManagedFrom(ParsedOptions options, RawValue secret, string? ownNamespace, TimeSpan interval)
    {
        if (!KubernetesName.IsValid(secret.Text))
        {
            options.AddError(secret, Options.TlsSecret, $"is not {KubernetesName.Expected}");
        }

        if (ownNamespace is null)
        {
            options.AddError(Options.Namespace, $"is required with {Options.TlsSecret.Flag} (or set POD_NAMESPACE): the Secret lives in the webhook's own namespace");
        }

        if (interval < MinimumPollInterval)
        {
            options.AddError(
                Options.TlsReloadInterval,
                $"must be at least {MinimumPollInterval.TotalSeconds:0}s with {Options.TlsSecret.Flag}: it is how often the Secret and the webhook configurations are read from the API server");
        }

        var dnsNames = new List<string>();
        foreach (var value in options.All(Options.TlsDnsName))
        {
            if (HostName.TryCanonical(value.Text, out var host, out var problem))
            {
                dnsNames.Add(host);
            }
            else
            {
                options.AddError(value, Options.TlsDnsName, problem);
            }
        }

        if (options.All(Options.TlsDnsName).Count == 0)
        {
            options.AddError(Options.TlsDnsName, $"is required with {Options.TlsSecret.Flag}: the Service's DNS names (e.g. token-injector-webhook.token-injector.svc), which the serving certificate must name");
        }

        var mutating = ConfigurationName(options, Options.MutatingWebhookConfiguration);
        var validating = ConfigurationName(options, Options.ValidatingWebhookConfiguration);
        if (mutating is null && validating is null)
        {
            options.AddError(
                Options.MutatingWebhookConfiguration,
                $"or {Options.ValidatingWebhookConfiguration.Flag} is required with {Options.TlsSecret.Flag}: the webhook configurations whose caBundle the webhook keeps");
        }

        var caLifetime = options.Duration(Options.CaLifetime, TimeSpan.FromMinutes(1), TimeSpan.FromDays(3650));
        var servingLifetime = options.Duration(Options.ServingCertificateLifetime, TimeSpan.FromMinutes(1), TimeSpan.FromDays(3650));
        var renewBefore = options.Duration(Options.RenewBefore, TimeSpan.FromSeconds(1), TimeSpan.FromDays(3650));
        foreach (var (lifetime, option) in new[] { (caLifetime, Options.CaLifetime), (servingLifetime, Options.ServingCertificateLifetime) })
        {
            // Compared only when both were read as given: a value already reported as bad is not compared again.
            if (renewBefore >= lifetime && options.Single(Options.RenewBefore) is { } renewValue && options.Single(option) is { } lifetimeValue
                && DurationSyntax.TryParse(renewValue.Text, out var givenRenewal) && givenRenewal == renewBefore
                && DurationSyntax.TryParse(lifetimeValue.Text, out var givenLifetime) && givenLifetime == lifetime)
            {
                options.AddError(
                    Options.RenewBefore,
                    $"'{ErrorText.Shown(renewValue.Text)}' is not shorter than {option.Flag} '{ErrorText.Shown(lifetimeValue.Text)}': a certificate would be renewed as soon as it is made");
            }
        }

        var overlap = options.Single(Options.RotationOverlap) is null
            ? interval * 3
            : options.Duration(Options.RotationOverlap, interval * 2, TimeSpan.FromDays(1));
        if (overlap * 2 >= renewBefore && options.Errors.Count == 0)
        {
            options.AddError(
                Options.RenewBefore,
                $"is too short for a rotation: it must leave time for two waits of {DurationSyntax.Format(overlap)} ({Options.RotationOverlap.Flag}, by default 3 x {Options.TlsReloadInterval.Flag})");
        }

        return new SelfManagedCertificateOptions
        {
            SecretName = secret.Text,
            Namespace = ownNamespace ?? string.Empty,
            DnsNames = dnsNames,
            MutatingWebhookConfiguration = mutating,
            ValidatingWebhookConfiguration = validating,
            CaLifetime = caLifetime,
            ServingCertificateLifetime = servingLifetime,
            RenewBefore = renewBefore,
            RotationOverlap = overlap,
            PollInterval = interval,
        };
    }

    private static string? ConfigurationName(ParsedOptions options, OptionSpec option)
    {
        var value = options.Single(option);
        if (value is not null && !KubernetesName.IsValid(value.Text))
        {
            options.AddError(value, option, $"is not {KubernetesName.Expected}");
        }

        return value?.Text;
    }

    /// <summary>The webhook's options; those named sidecar-* are the defaults of every sidecar it injects.</summary>
    public static class Options
    {
        public static readonly OptionSpec Listen = new(
            "listen", "HOST:PORT", "HTTPS listener for /mutate /healthz /readyz /metrics (10250: GKE's control plane reaches nodes there without a firewall rule)",
            defaultValue: "0.0.0.0:10250");

        public static readonly OptionSpec TlsCertFile = new("tls-cert-file", "FILE", "PEM serving certificate (and chain); reloaded when the file changes");

        public static readonly OptionSpec TlsKeyFile = new("tls-key-file", "FILE", "PEM private key of the serving certificate; reloaded when the file changes");

        public static readonly OptionSpec TlsSecret = new(
            "tls-secret", "NAME", "keep the serving certificate in this Secret of the webhook's namespace: created when missing, rotated before expiry (instead of --tls-cert-file)");

        public static readonly OptionSpec TlsDnsName = new(
            "tls-dns-name", "NAME", "a DNS name of the webhook's Service, named by the kept certificate (repeatable; with --tls-secret)", OptionKind.Repeatable);

        public static readonly OptionSpec MutatingWebhookConfiguration = new(
            "mutating-webhook-configuration", "NAME", "MutatingWebhookConfiguration whose entries' caBundle the webhook keeps (with --tls-secret)");

        public static readonly OptionSpec ValidatingWebhookConfiguration = new(
            "validating-webhook-configuration", "NAME", "ValidatingWebhookConfiguration whose entries' caBundle the webhook keeps (with --tls-secret)");

        public static readonly OptionSpec CaLifetime = new("ca-lifetime", "DURATION", "lifetime of the CA the webhook makes (with --tls-secret)", defaultValue: "8760h");

        public static readonly OptionSpec ServingCertificateLifetime = new(
            "serving-certificate-lifetime", "DURATION", "lifetime of the serving certificate the webhook makes (with --tls-secret)", defaultValue: "2160h");

        public static readonly OptionSpec RenewBefore = new(
            "renew-before", "DURATION", "renew the CA or the serving certificate when less than this remains (with --tls-secret)", defaultValue: "720h");

        public static readonly OptionSpec RotationOverlap = new(
            "rotation-overlap", "DURATION", "wait between the steps of a CA rotation, for every replica to follow (default: 3 x --tls-reload-interval)");

        public static readonly OptionSpec TlsReloadInterval = new(
            "tls-reload-interval", "DURATION", "how often the certificate files, or the Secret and the webhook configurations, are read again", defaultValue: "10s");

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
