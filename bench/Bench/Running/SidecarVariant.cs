namespace TokenInjector.Bench.Running;

/// <summary>The sidecar listener a variant's load goes to.</summary>
internal enum SidecarListener
{
    /// <summary>A <c>--route</c> port: h2c in, TLS to the upstream, the route's token added.</summary>
    Route,

    /// <summary>The <c>--egress</c> port: the upstream and the audience come from each request's <c>:authority</c>.</summary>
    Egress,
}

/// <summary>
/// A sidecar set-up whose proxy is measured: which listener takes the load, whether the sidecar is pinned to the
/// measured core (as the reference proxies are) or may run on every core (as in a pod), and extra environment.
/// </summary>
internal sealed record SidecarVariant(string Name, SidecarListener Listener, bool Pinned, IReadOnlyDictionary<string, string>? Environment = null)
{
    /// <summary>What <c>scripts/bench</c> measures; the first is the one the summary holds to its goals.</summary>
    public static IReadOnlyList<SidecarVariant> Measured { get; } =
    [
        new("token-injector route, pinned", SidecarListener.Route, Pinned: true),
        new("token-injector route, unpinned", SidecarListener.Route, Pinned: false),
        new("token-injector egress port, pinned", SidecarListener.Egress, Pinned: true),
        new("token-injector egress port, unpinned", SidecarListener.Egress, Pinned: false),
    ];
}
