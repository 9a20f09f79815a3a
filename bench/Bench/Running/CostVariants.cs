using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using TokenInjector.Bench.Reporting;

namespace TokenInjector.Bench.Running;

/// <summary>
/// <c>bench cost</c>'s arguments and table: sidecar variants named <c>NAME</c> or <c>NAME:VAR=VALUE,VAR=VALUE</c>
/// (environment given to that sidecar), each measured pinned (and also unpinned with <c>--unpinned</c>), and each
/// figure beside haproxy's from the same run.
/// </summary>
internal static class CostVariants
{
    private static readonly bool[] PinnedOnly = [true];
    private static readonly bool[] PinnedAndNot = [true, false];

    public static bool TryParse(IReadOnlyList<string> args, [NotNullWhen(true)] out IReadOnlyList<SidecarVariant>? variants, out AttachCommand? attach)
    {
        var parsed = new List<(string Name, Dictionary<string, string> Environment)>();
        var unpinned = false;
        (variants, attach) = (null, null);
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--unpinned":
                    unpinned = true;
                    break;
                case "--attach" when i + 1 < args.Count:
                    attach = new AttachCommand(args[++i]);
                    break;
                case var spec when !spec.StartsWith('-'):
                    var (name, assignments) = spec.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 ? (spec[..colon], spec[(colon + 1)..]) : (spec, "");
                    var environment = new Dictionary<string, string>();
                    foreach (var assignment in assignments.Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        if (assignment.Split('=', 2) is not [var key, var value])
                        {
                            return false;
                        }

                        environment[key] = value;
                    }

                    parsed.Add((name, environment));
                    break;
                default:
                    return false;
            }
        }

        variants = [.. parsed.SelectMany(variant => (unpinned ? PinnedAndNot : PinnedOnly).Select(pinned =>
            new SidecarVariant(pinned ? variant.Name : variant.Name + ", unpinned", SidecarListener.Route, pinned, variant.Environment)))];
        return variants.Count > 0;
    }

    public static string ToTable(IReadOnlyList<ProxyRun> runs)
    {
        var haproxy = runs.Where(run => run.Variant == "haproxy").ToDictionary(run => run.Concurrency);
        var text = new StringBuilder();
        text.Append("| variant | streams | req/s | p50 | CPU per RPC | × haproxy | voluntary switches per RPC | involuntary |\n");
        text.Append("|---|---|---|---|---|---|---|---|\n");
        foreach (var run in runs)
        {
            var cost = run.Cost!;
            text.Append(CultureInfo.InvariantCulture,
                $"| {run.Variant} | {run.Concurrency} | {run.Result.RequestsPerSecond:N0} | {run.Result.P50.TotalMicroseconds:0} µs | "
                + $"{cost.CpuPerRpc.TotalMicroseconds:0.0} µs | {cost.CpuPerRpc / haproxy[run.Concurrency].Cost!.CpuPerRpc:0.00} | "
                + $"{cost.VoluntarySwitchesPerRpc:0.00} | {cost.InvoluntarySwitchesPerRpc:0.00} |\n");
        }

        return text.ToString();
    }
}
