namespace TokenInjector.Bench.Running;

/// <summary>
/// Which cores (<c>taskset -c</c> lists) each part of a run is pinned to. What is measured (the sidecar, the bare
/// Kestrel baseline, nginx, haproxy) always has core 0 to itself and the load generator core 1 (scripts/bench pins it
/// there; children inherit it). The TLS upstream gets a core of its own when there is a third; on two cores it shares
/// the load generator's, and the direct calls (no proxy) go to a second upstream on core 0, idle while they run, so
/// that the client's TLS is never done on the upstream's core: with one upstream beside the client, the direct
/// baseline paid for both ends of the TLS on one core while a proxy's TLS had a core of its own, and every proxy
/// looked faster than no proxy at all.
/// </summary>
internal sealed record CoreLayout(string Measured, string Load, string Upstream, string DirectUpstream, string All)
{
    public static CoreLayout For(int cores) => cores >= 3
        ? new CoreLayout("0", "1", "2", "2", $"0-{cores - 1}")
        : new CoreLayout("0", "1", "1", "0", $"0-{cores - 1}");

    /// <summary>Whether the direct calls need an upstream of their own, away from the load generator's core.</summary>
    public bool SeparateDirectUpstream => DirectUpstream != Upstream;

    /// <summary>The page's explanation of the pinning, for this layout.</summary>
    public string Describe() =>
        $"`taskset`: the sidecar, the baseline, nginx and haproxy on core {Measured}; the load generator and the metadata emulator on core {Load}; "
        + (SeparateDirectUpstream
            ? $"the TLS upstream that proxies forward to on core {Upstream}, beside the load generator (two cores: no third to give it); "
              + $"the direct calls go to a second upstream on core {DirectUpstream}, so the client's TLS and the upstream's are on different cores, as a proxy's and the upstream's are; "
            : $"the TLS upstream on core {Upstream}, so the client, the proxy and the upstream never share a core, direct or proxied; ")
        + $"the sidecar's unpinned variants on cores {All}, as in a pod without a CPU limit";
}
