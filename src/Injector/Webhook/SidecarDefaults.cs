using TokenInjector.Configuration;

namespace TokenInjector.Webhook;

/// <summary>
/// What the webhook puts into every injected sidecar unless a pod's annotations say otherwise, and what the operator
/// allows pods to ask for.
/// </summary>
internal sealed record SidecarDefaults
{
    public required string Image { get; init; }

    public string ImagePullPolicy { get; init; } = "IfNotPresent";

    public string CpuRequest { get; init; } = "10m";

    public string MemoryRequest { get; init; } = "48Mi";

    public string MemoryLimit { get; init; } = "128Mi";

    public int AdminPort { get; init; } = SidecarContract.AdminPort;

    public string LogFormat { get; init; } = "json";

    /// <summary>Adds <c>prometheus.io/*</c> scrape annotations to pods that have none.</summary>
    public bool PrometheusScrape { get; init; }

    /// <summary>Injects pods with <c>hostNetwork: true</c> (with a warning) instead of denying them.</summary>
    public bool AllowHostNetwork { get; init; }
}
