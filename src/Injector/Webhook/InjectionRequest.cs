using TokenInjector.Configuration;

namespace TokenInjector.Webhook;

/// <summary>What a pod asks for through its <c>token-injector.dev/*</c> annotations, validated.</summary>
internal sealed record InjectionRequest
{
    public required IReadOnlyList<string> Audiences { get; init; }

    /// <summary>Routes with the text the pod wrote, passed to the sidecar unchanged.</summary>
    public required IReadOnlyList<(RouteSpec Route, string Text)> Routes { get; init; }

    /// <summary>The egress listener's local port, or null for none.</summary>
    public int? EgressPort { get; init; }

    /// <summary>The egress allowlist as the pod wrote it (<c>PATTERN[;header=MODE][=AUDIENCE]</c>), passed to the sidecar unchanged; empty for its default.</summary>
    public IReadOnlyList<string> EgressHosts { get; init; } = [];

    /// <summary>The metadata endpoint's local port, or null for none.</summary>
    public int? MetadataPort { get; init; }

    /// <summary>The service accounts the sidecar fetches audiences as (<c>--impersonate</c>); empty: the pod's own identity for all.</summary>
    public IReadOnlyList<ImpersonationSpec> Impersonations { get; init; } = [];

    /// <summary>
    /// Whether every audience's tokens are minted for an impersonated service account (an entry without an audience
    /// acts for all the others), so that no ID token is the pod's own and its Kubernetes service account needs no
    /// Google service account: the sidecar's own identity only authorises the impersonation, with an access token.
    /// </summary>
    public bool ImpersonatesEveryAudience => Impersonations.Any(impersonation => impersonation.Audience is null);

    /// <summary>Absolute path in the app containers where token files appear, or null for none.</summary>
    public string? TokenDirectory { get; init; }

    /// <summary>Names of the app containers that get the mounts and env.</summary>
    public required IReadOnlyList<string> Containers { get; init; }

    /// <summary>Names of the app's init containers that get the mounts and env too (they run after the sidecar).</summary>
    public IReadOnlyList<string> InitContainers { get; init; } = [];

    /// <summary>The admin listener's port in this pod, or null for the webhook's default.</summary>
    public int? AdminPort { get; init; }

    public string? CpuRequest { get; init; }

    public string? MemoryRequest { get; init; }

    public string? MemoryLimit { get; init; }

    public bool NativeSidecar { get; init; } = true;
}
