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

/// <summary>
/// A sidecar variant's resident memory when idle, after its proxied RPCs, and after a quiet period with no requests
/// that followed them (<see cref="BenchSettings.QuietPeriod"/>, wall time).
/// </summary>
internal sealed record SidecarMemoryRun(string Variant, long IdleRssBytes, long RssAfterRpcsBytes, long RssAfterQuietBytes);

/// <summary>One audience of the refresh run (e): metadata fetches against the distinct tokens callers were handed.</summary>
internal sealed record RefreshRun(string Audience, string Kind, int Fetches, int DistinctTokens, long Requests, long Failures)
{
    public double FetchesPerCycle => DistinctTokens == 0 ? double.NaN : (double)Fetches / DistinctTokens;
}

/// <summary>
/// One round of a run: every comparison measured once, the sidecar and its baselines one after the other, so each
/// ratio is taken between figures of the same round (what else ran on the machine then weighs on both).
/// </summary>
internal sealed record BenchRound(
    int Number,
    ServerRun Sidecar,
    ServerRun Bare,
    IReadOnlyList<SidecarMemoryRun> SidecarMemory,
    IReadOnlyList<ProxyRun> Proxy);

/// <summary>Everything one run of <c>scripts/bench</c> measured: its rounds, then the refresh run (e), once.</summary>
internal sealed record BenchResults(
    MachineFacts Machine,
    BenchSettings Settings,
    Running.CoreLayout Cores,
    IReadOnlyList<BenchRound> Rounds,
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
        IsQuick = true,
        QuietPeriod = TimeSpan.FromSeconds(5),
        StartRepeats = 2,
        TokenWarmup = 400,
        TokenRequestsOne = 6_000,
        TokenRequestsMany = 23_600,
        RpcWarmup = 500,
        RpcsOne = 1_500,
        RpcsMany = 8_000,
        RefreshCallers = 100,
        RefreshTokenLifetimeSeconds = 4,
        RefreshDuration = TimeSpan.FromSeconds(5),
    };

    /// <summary>How many times every comparison is measured, interleaved (sidecar, haproxy, nginx, direct, then again).</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>How long a sidecar is left without requests after its proxied RPCs before its RSS is read again.</summary>
    public TimeSpan QuietPeriod { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Whether this is <see cref="Quick"/>, which the page says of itself.</summary>
    public bool IsQuick { get; init; }

    public int StartRepeats { get; init; } = 10;

    public int TokenWarmup { get; init; } = 4_000;

    public int TokenRequestsOne { get; init; } = 60_000;

    public int TokenRequestsMany { get; init; } = 236_000;

    public int TokenConcurrency { get; init; } = 32;

    /// <summary>How many turns the servers (the token loads) or proxies (the RPCs) compared take, each with its share of the requests.</summary>
    public int Turns { get; init; } = 5;

    public int RpcWarmup { get; init; } = 5_000;

    public int RpcsOne { get; init; } = 15_000;

    public int RpcsMany { get; init; } = 80_000;

    public int RpcConcurrency { get; init; } = 32;

    public int RpcConnections { get; init; } = 2;

    public int RefreshCallers { get; init; } = 1_000;

    public int RefreshTokenLifetimeSeconds { get; init; } = 12;

    public TimeSpan RefreshDuration { get; init; } = TimeSpan.FromSeconds(22);

    /// <summary><c>bench run</c>'s options after its two paths (<c>--quick</c>, <c>--rounds N</c>), or one line per error.</summary>
    public static BenchSettings? Parse(IReadOnlyList<string> args, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(args);
        var found = new List<string>();
        var (quick, rounds) = (false, (int?)null);
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--rounds" when i + 1 < args.Count:
                    rounds = ParseCount("--rounds", args[++i], found);
                    break;
                default:
                    found.Add($"'{args[i]}' is not an option of run (--quick, --rounds N)");
                    break;
            }
        }

        errors = found;
        var settings = quick ? Quick : new BenchSettings();
        return found.Count > 0 ? null : settings with { Rounds = rounds ?? settings.Rounds };
    }

    /// <summary>A whole number of 1 or more, or an error added to <paramref name="errors"/>.</summary>
    public static int ParseCount(string name, string text, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) && count >= 1)
        {
            return count;
        }

        errors.Add($"{name} '{text}' is not a whole number of 1 or more");
        return 1;
    }

    public int TokenRequestsTotal => TokenWarmup + TokenRequestsOne + TokenRequestsMany;

    public int RpcsTotal => RpcWarmup + RpcsOne + RpcsMany;
}
