using TokenInjector.Bench.Measuring;

namespace TokenInjector.Bench.Reporting;

/// <summary>The token API under load at 1 and at many concurrent connections, with the server's CPU per request.</summary>
internal sealed record TokenApiRun(LoadResult One, LoadResult Many, TimeSpan CpuPerRequestOne, TimeSpan CpuPerRequestMany);

/// <summary>One server measured for (a), (b) and (c): the sidecar, or the bare Kestrel baseline.</summary>
/// <remarks><paramref name="MetadataIdentity"/>: the same load on the metadata endpoint's identity path (the sidecar only).</remarks>
internal sealed record ServerRun(string Build, long IdleRssBytes, long RssAfterTokenLoadBytes, TimeSpan StartMedian, TokenApiRun TokenApi, TokenApiRun? MetadataIdentity = null);

/// <summary>One proxy variant at one concurrency (d); no cost figures for the direct calls, which have no proxy.</summary>
internal sealed record ProxyRun(string Variant, int Concurrency, LoadResult Result, ProxyCost? Cost)
{
    public TimeSpan? ProxyCpuPerRpc => Cost?.CpuPerRpc;
}

/// <summary>
/// What the proxy's processes spent per RPC: CPU time, and context switches (voluntary: a thread went to sleep
/// waiting for work, so another had to be woken to carry the call on; involuntary: the scheduler preempted one).
/// </summary>
internal sealed record ProxyCost(TimeSpan CpuPerRpc, double VoluntarySwitchesPerRpc, double InvoluntarySwitchesPerRpc)
{
    public static ProxyCost PerRpc(ProcessTreeSample used, long rpcs) =>
        new(used.Cpu / rpcs, (double)used.VoluntarySwitches / rpcs, (double)used.InvoluntarySwitches / rpcs);
}

/// <summary>A sidecar variant's resident memory when idle and after its proxied RPCs.</summary>
internal sealed record SidecarMemoryRun(string Variant, long IdleRssBytes, long RssAfterRpcsBytes);

/// <summary>One audience of the refresh run (e): metadata fetches against the distinct tokens callers were handed.</summary>
internal sealed record RefreshRun(string Audience, string Kind, int Fetches, int DistinctTokens, long Requests, long Failures)
{
    public double FetchesPerCycle => DistinctTokens == 0 ? double.NaN : (double)Fetches / DistinctTokens;
}

/// <summary>Everything one run of <c>scripts/bench</c> measured.</summary>
internal sealed record BenchResults(
    MachineFacts Machine,
    BenchSettings Settings,
    ServerRun Sidecar,
    ServerRun Bare,
    IReadOnlyList<SidecarMemoryRun> SidecarMemory,
    IReadOnlyList<ProxyRun> Proxy,
    IReadOnlyList<RefreshRun> Refresh,
    TimeSpan Duration);

/// <summary>The fixed sizes of a run, reported with its figures.</summary>
internal sealed record BenchSettings
{
    /// <summary>
    /// A run a few times smaller, to check the harness end to end (<c>scripts/bench --quick</c>); its figures are too
    /// short-lived to compare.
    /// </summary>
    public static BenchSettings Quick { get; } = new()
    {
        StartRepeats = 2,
        TokenWarmup = 400,
        TokenRequestsOne = 2_000,
        TokenRequestsMany = 7_600,
        RpcWarmup = 500,
        RpcsOne = 1_500,
        RpcsMany = 8_000,
        RefreshCallers = 100,
        RefreshTokenLifetimeSeconds = 4,
        RefreshDuration = TimeSpan.FromSeconds(5),
    };

    public int StartRepeats { get; init; } = 10;

    public int TokenWarmup { get; init; } = 4_000;

    public int TokenRequestsOne { get; init; } = 20_000;

    public int TokenRequestsMany { get; init; } = 76_000;

    public int TokenConcurrency { get; init; } = 32;

    public int RpcWarmup { get; init; } = 5_000;

    public int RpcsOne { get; init; } = 15_000;

    public int RpcsMany { get; init; } = 80_000;

    public int RpcConcurrency { get; init; } = 32;

    public int RpcConnections { get; init; } = 2;

    public int RefreshCallers { get; init; } = 1_000;

    public int RefreshTokenLifetimeSeconds { get; init; } = 12;

    public TimeSpan RefreshDuration { get; init; } = TimeSpan.FromSeconds(22);

    public int TokenRequestsTotal => TokenWarmup + TokenRequestsOne + TokenRequestsMany;

    public int RpcsTotal => RpcWarmup + RpcsOne + RpcsMany;
}
