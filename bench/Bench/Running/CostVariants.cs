using System.Globalization;
using System.Text;
using TokenInjector.Bench.Measuring;
using TokenInjector.Bench.Reporting;

namespace TokenInjector.Bench.Running;

/// <summary>What <c>bench cost</c> measures: its sidecar variants, the profiler to attach, the loads and rounds.</summary>
internal sealed record CostOptions(IReadOnlyList<SidecarVariant> Variants, AttachCommand? Attach, BenchSettings Settings);

/// <summary>
/// <c>bench cost</c>'s arguments and table: sidecar variants named <c>NAME</c> or <c>NAME:VAR=VALUE,VAR=VALUE</c>
/// (environment given to that sidecar), each measured pinned (and also unpinned with <c>--unpinned</c>), or the
/// thread-pool candidates of <c>--threads</c>; in rounds, each variant then haproxy in every round, and each figure
/// beside haproxy's and the first variant's from the same round.
/// </summary>
internal static class CostVariants
{
    /// <summary>
    /// The thread-pool and processor-count settings a sidecar could ship with, each against the default, all unpinned:
    /// a pod without a CPU limit sees every core of its node, which is where these settings matter (pinned to one core,
    /// the runtime already counts one processor).
    /// </summary>
    public static IReadOnlyList<(string Name, Dictionary<string, string> Environment)> ThreadCandidates { get; } =
    [
        ("default", []),
        ("max-workers-1", new() { ["DOTNET_ThreadPool_ForceMaxWorkerThreads"] = "1" }),
        ("max-workers-2", new() { ["DOTNET_ThreadPool_ForceMaxWorkerThreads"] = "2" }),
        ("processors-1", new() { ["DOTNET_PROCESSOR_COUNT"] = "1" }),
        ("processors-2", new() { ["DOTNET_PROCESSOR_COUNT"] = "2" }),
    ];

    private static readonly bool[] PinnedOnly = [true];
    private static readonly bool[] PinnedAndNot = [true, false];

    /// <summary>
    /// <c>RPCS_ONE RPCS_MANY [options] [variants]</c> (what follows <c>bench cost PROGRAMS_DIR</c>): the options, or
    /// one line per error (and no options).
    /// </summary>
    public static CostOptions? Parse(IReadOnlyList<string> args, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(args);
        var found = new List<string>();
        if (args.Count < 2)
        {
            errors = ["cost needs RPCS_ONE and RPCS_MANY (RPCs on 1 stream, then on 32) before its options"];
            return null;
        }

        var rpcsOne = BenchSettings.ParseCount("RPCS_ONE", args[0], found);
        var rpcsMany = BenchSettings.ParseCount("RPCS_MANY", args[1], found);
        var named = new List<(string Name, Dictionary<string, string> Environment)>();
        var variants = new List<SidecarVariant>();
        var (unpinned, threads, rounds) = (false, false, new BenchSettings().Rounds);
        AttachCommand? attach = null;
        for (var i = 2; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--unpinned":
                    unpinned = true;
                    break;
                case "--threads":
                    threads = true;
                    break;
                case "--attach" when i + 1 < args.Count:
                    attach = new AttachCommand(args[++i]);
                    break;
                case "--rounds" when i + 1 < args.Count:
                    rounds = BenchSettings.ParseCount("--rounds", args[++i], found);
                    break;
                case var spec when !spec.StartsWith('-'):
                    var (name, assignments) = spec.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 ? (spec[..colon], spec[(colon + 1)..]) : (spec, "");
                    var environment = new Dictionary<string, string>();
                    foreach (var assignment in assignments.Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        if (assignment.Split('=', 2) is [{ Length: > 0 } key, var value])
                        {
                            environment[key] = value;
                        }
                        else
                        {
                            found.Add($"variant '{spec}': '{assignment}' is not VAR=VALUE");
                        }
                    }

                    named.Add((name, environment));
                    break;
                default:
                    found.Add($"'{args[i]}' is not an option of --cost (--rounds N, --unpinned, --threads, --attach 'COMMAND', NAME[:VAR=VALUE,...])");
                    break;
            }
        }

        if (threads)
        {
            variants.AddRange(ThreadCandidates.Select(candidate => new SidecarVariant(candidate.Name + ", unpinned", SidecarListener.Route, Pinned: false, candidate.Environment)));
        }

        variants.AddRange(named.SelectMany(variant => (unpinned ? PinnedAndNot : PinnedOnly).Select(pinned =>
            new SidecarVariant(pinned ? variant.Name : variant.Name + ", unpinned", SidecarListener.Route, pinned, variant.Environment))));
        if (variants.Count == 0)
        {
            found.Add("no sidecar variant to measure: name one (NAME[:VAR=VALUE,...]) or give --threads");
        }

        foreach (var duplicate in variants.GroupBy(variant => variant.Name).Where(group => group.Count() > 1))
        {
            found.Add($"variant '{duplicate.Key}' is named twice");
        }

        errors = found;
        var settings = new BenchSettings { Rounds = rounds, RpcWarmup = Math.Max(rpcsMany / 4, 1), RpcsOne = rpcsOne, RpcsMany = rpcsMany };
        return found.Count == 0 ? new CostOptions(variants, attach, settings) : null;
    }

    /// <summary>
    /// One row per variant and stream count: medians over the rounds, and the CPU per RPC as a multiple of haproxy's and
    /// of the first variant's, each taken within a round, as median (lowest–highest round).
    /// </summary>
    public static string ToTable(IReadOnlyList<IReadOnlyList<ProxyRun>> rounds)
    {
        ArgumentNullException.ThrowIfNull(rounds);
        var variants = rounds[0].Select(run => run.Variant).Distinct().ToList();
        var first = variants[0];
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{rounds.Count} rounds; each cell the median over them, ratios taken within a round with the lowest and highest round in brackets.\n\n");
        text.Append(CultureInfo.InvariantCulture, $"| variant | streams | req/s | p50 | CPU per RPC | × haproxy | × {first} | voluntary switches per RPC | involuntary |\n");
        text.Append("|---|---|---|---|---|---|---|---|---|\n");
        foreach (var streams in rounds[0].Select(run => run.Concurrency).Distinct())
        {
            foreach (var variant in variants)
            {
                ProxyRun Of(IReadOnlyList<ProxyRun> round, string name) => round.Single(run => run.Variant == name && run.Concurrency == streams);
                Spread Over(Func<IReadOnlyList<ProxyRun>, double> value) => Spread.Of(rounds.Select(value));
                double Cpu(IReadOnlyList<ProxyRun> round, string name) => Of(round, name).Cost!.CpuPerRpc.TotalMicroseconds;
                text.Append(CultureInfo.InvariantCulture,
                    $"| {variant} | {streams} | {Over(round => Of(round, variant).Result.RequestsPerSecond).Median:N0} | {Over(round => Of(round, variant).Result.P50.TotalMicroseconds).Median:0} µs | "
                    + $"{Over(round => Cpu(round, variant)).Median:0.0} µs | {Times(Over(round => Cpu(round, variant) / Cpu(round, "haproxy")))} | "
                    + $"{(variant is "haproxy" ? "" : Times(Over(round => Cpu(round, variant) / Cpu(round, first))))} | "
                    + $"{Over(round => Of(round, variant).Cost!.VoluntarySwitchesPerRpc).Median:0.00} | {Over(round => Of(round, variant).Cost!.InvoluntarySwitchesPerRpc).Median:0.00} |\n");
            }
        }

        return text.ToString();
    }

    private static string Times(Spread spread) =>
        string.Create(CultureInfo.InvariantCulture, $"{spread.Median:0.00} ({spread.Min:0.00}–{spread.Max:0.00})");
}
