using System.Globalization;
using System.Text;

namespace TokenInjector.Bench.Reporting;

/// <summary>
/// Turns a run's results into docs/BENCHMARKS.md (also printed): the machine, one summary table where each figure
/// stands beside its baseline from the same run and its goal, then the proxy and refresh details and how each figure
/// is measured. Every number comes from the results; none is typed here.
/// </summary>
internal static class BenchReport
{
    private const double Mebibyte = 1024 * 1024;
    private const double IdleRssGoalMebibytes = 32;
    private const double StartGoalRatio = 2;
    private const double TokenThroughputGoalRatio = 0.8;
    private static readonly TimeSpan TokenP99Goal = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan AddedP50Goal = TimeSpan.FromMicroseconds(150);
    private const double NginxCpuGoalRatio = 0.5;
    private const string SidecarConfiguration = "3 audiences and 2 routes configured, so 5 tokens fetched first";

    public static string ToMarkdown(BenchResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var (machine, settings, sidecar, bare) = (results.Machine, results.Settings, results.Sidecar, results.Bare);
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');

        Line("# Benchmarks");
        Line();
        Line("Written by `scripts/bench`, which publishes release builds, runs every part on this machine in one go and");
        Line("writes this page: edit nothing here by hand, run the command again. Each figure stands beside its baseline from");
        Line("the same run; the load generator shares the machine's cores with what it measures, so ratios and CPU per request");
        Line("say more than absolute rates.");
        Line();
        Line("| machine | |");
        Line("|---|---|");
        Line($"| date | {machine.Date:yyyy-MM-dd HH:mm} UTC |");
        Line($"| commit | {machine.Commit} |");
        Line($"| CPU | {machine.Cores} cores, {machine.CpuModel} |");
        Line($"| kernel | {machine.Kernel} |");
        Line($"| .NET | {machine.Runtime} (SDK {machine.Sdk}) |");
        Line($"| nginx | {machine.Nginx} |");
        Line($"| haproxy | {machine.Haproxy} |");
        Line($"| injector build | {sidecar.Build} |");
        Line($"| baseline build | bare Kestrel (`bench/BareKestrel`), {bare.Build}, published with the injector's publish properties |");
        Line("| pinning | `taskset`: the sidecar, the baseline, nginx and haproxy on core 0; the load generator, the TLS upstream and the metadata emulator on core 1; the sidecar's unpinned variants on every core, as in a pod |");
        Line($"| run time | {results.Duration.TotalMinutes:0.0} min (measuring, after the builds) |");
        Line();

        var direct = results.Proxy.Where(run => run.Variant.StartsWith("direct", StringComparison.Ordinal)).ToDictionary(run => run.Concurrency);
        var ours = results.Proxy.Where(run => run.Variant == Running.SidecarVariant.Measured[0].Name).ToDictionary(run => run.Concurrency);
        var nginx = results.Proxy.Where(run => run.Variant == "nginx").ToDictionary(run => run.Concurrency);
        var haproxy = results.Proxy.Where(run => run.Variant == "haproxy").ToDictionary(run => run.Concurrency);
        var many = settings.RpcConcurrency;
        var (tokenOne, tokenMany, bareOne, bareMany) = (sidecar.TokenApi.One, sidecar.TokenApi.Many, bare.TokenApi.One, bare.TokenApi.Many);
        var ourCpu = ours[many].ProxyCpuPerRpc!.Value;
        var nginxCpu = nginx[many].ProxyCpuPerRpc!.Value;
        var haproxyCpu = haproxy[many].ProxyCpuPerRpc!.Value;
        TimeSpan AddedP50(Dictionary<int, ProxyRun> runs, int streams) => runs[streams].Result.P50 - direct[streams].Result.P50;

        Line("## Summary");
        Line();
        Line("| | figure | token-injector | baseline | ratio | goal | |");
        Line("|---|---|---|---|---|---|---|");
        Line($"| a | idle RSS (3 audiences + 2 routes, tokens fetched) | {Mib(sidecar.IdleRssBytes)} | bare Kestrel {Mib(bare.IdleRssBytes)} | {Ratio(sidecar.IdleRssBytes, bare.IdleRssBytes)} | ≤ {IdleRssGoalMebibytes:0} MiB | {Verdict(sidecar.IdleRssBytes / Mebibyte <= IdleRssGoalMebibytes)} |");
        Line($"| a | RSS after {settings.TokenRequestsTotal:N0} token requests | {Mib(sidecar.RssAfterTokenLoadBytes)} | bare Kestrel after as many requests {Mib(bare.RssAfterTokenLoadBytes)} | {Ratio(sidecar.RssAfterTokenLoadBytes, bare.RssAfterTokenLoadBytes)} | | |");
        foreach (var memory in results.SidecarMemory)
        {
            Line($"| a | RSS after {settings.RpcsTotal:N0} proxied RPCs ({memory.Variant}) | {Mib(memory.RssAfterRpcsBytes)} | its idle RSS {Mib(memory.IdleRssBytes)} | {Ratio(memory.RssAfterRpcsBytes, memory.IdleRssBytes)} | | |");
        }

        Line($"| b | start → `/readyz` 200 (median of {settings.StartRepeats}) | {Ms(sidecar.StartMedian)} | bare Kestrel start → first answer {Ms(bare.StartMedian)} | {Ratio(sidecar.StartMedian.Ticks, bare.StartMedian.Ticks)} | ≤ {StartGoalRatio:0}× bare | {Verdict(sidecar.StartMedian <= bare.StartMedian * StartGoalRatio)} |");
        Line($"| c | token API req/s, 1 connection | {Rate(tokenOne.RequestsPerSecond)} | bare Kestrel on a Unix socket {Rate(bareOne.RequestsPerSecond)} | {Ratio(tokenOne.RequestsPerSecond, bareOne.RequestsPerSecond)} | ≥ {TokenThroughputGoalRatio:0.0}× bare | {Verdict(tokenOne.RequestsPerSecond >= TokenThroughputGoalRatio * bareOne.RequestsPerSecond)} |");
        Line($"| c | token API p50 / p99, 1 connection | {Us(tokenOne.P50)} / {Us(tokenOne.P99)} | {Us(bareOne.P50)} / {Us(bareOne.P99)} | | | |");
        Line($"| c | token API req/s, {settings.TokenConcurrency} connections | {Rate(tokenMany.RequestsPerSecond)} | {Rate(bareMany.RequestsPerSecond)} | {Ratio(tokenMany.RequestsPerSecond, bareMany.RequestsPerSecond)} | ≥ {TokenThroughputGoalRatio:0.0}× bare | {Verdict(tokenMany.RequestsPerSecond >= TokenThroughputGoalRatio * bareMany.RequestsPerSecond)} |");
        Line($"| c | token API p50 / p99, {settings.TokenConcurrency} connections | {Us(tokenMany.P50)} / {Us(tokenMany.P99)} | {Us(bareMany.P50)} / {Us(bareMany.P99)} | | p99 ≤ {Us(TokenP99Goal)} | {Verdict(tokenMany.P99 <= TokenP99Goal)} |");
        Line($"| c | server CPU per token request, 1 / {settings.TokenConcurrency} connections | {Us(sidecar.TokenApi.CpuPerRequestOne)} / {Us(sidecar.TokenApi.CpuPerRequestMany)} | {Us(bare.TokenApi.CpuPerRequestOne)} / {Us(bare.TokenApi.CpuPerRequestMany)} | {Ratio(sidecar.TokenApi.CpuPerRequestMany.Ticks, bare.TokenApi.CpuPerRequestMany.Ticks)} | | |");
        if (sidecar.MetadataIdentity is { } identity)
        {
            Line($"| c | metadata endpoint identity req/s, 1 / {settings.TokenConcurrency} connections (TCP) | {Rate(identity.One.RequestsPerSecond)} / {Rate(identity.Many.RequestsPerSecond)} | token API (Unix socket) {Rate(tokenOne.RequestsPerSecond)} / {Rate(tokenMany.RequestsPerSecond)} | {Ratio(identity.Many.RequestsPerSecond, tokenMany.RequestsPerSecond)} | | |");
            Line($"| c | metadata endpoint identity p50 / p99, {settings.TokenConcurrency} connections | {Us(identity.Many.P50)} / {Us(identity.Many.P99)} | {Us(tokenMany.P50)} / {Us(tokenMany.P99)} | | | |");
        }

        var oneCpu = ours[1].ProxyCpuPerRpc!.Value;
        var haproxyOneCpu = haproxy[1].ProxyCpuPerRpc!.Value;
        Line($"| d | proxy CPU per RPC, 1 stream | {Us(oneCpu)} | haproxy {Us(haproxyOneCpu)}, nginx {Us(nginx[1].ProxyCpuPerRpc!.Value)} | {Ratio(oneCpu.Ticks, haproxyOneCpu.Ticks)} of haproxy | ≤ haproxy | {Verdict(oneCpu <= haproxyOneCpu)} |");
        Line($"| d | proxy CPU per RPC, {many} streams | {Us(ourCpu)} | haproxy {Us(haproxyCpu)}, nginx {Us(nginxCpu)} | {Ratio(ourCpu.Ticks, haproxyCpu.Ticks)} of haproxy, {Ratio(ourCpu.Ticks, nginxCpu.Ticks)} of nginx | ≤ haproxy and ≤ {NginxCpuGoalRatio:0.0}× nginx | {Verdict(ourCpu <= haproxyCpu && ourCpu <= nginxCpu * NginxCpuGoalRatio)} |");
        foreach (var streams in new[] { 1, many })
        {
            var added = AddedP50(ours, streams);
            var best = AddedP50(haproxy, streams) < AddedP50(nginx, streams) ? AddedP50(haproxy, streams) : AddedP50(nginx, streams);
            var goal = streams == 1 ? $"≤ {Us(AddedP50Goal)} and ≤ the better reference" : "≤ the better reference";
            var met = added <= best && (streams != 1 || added <= AddedP50Goal);
            Line($"| d | added p50 over direct, {Streams(streams)} | {Us(added)} | haproxy {Us(AddedP50(haproxy, streams))}, nginx {Us(AddedP50(nginx, streams))} | | {goal} | {Verdict(met)} |");
        }

        Line($"| d | context switches per RPC, 1 / {many} streams | {Switches(ours[1])} / {Switches(ours[many])} | haproxy {Switches(haproxy[1])} / {Switches(haproxy[many])}, nginx {Switches(nginx[1])} / {Switches(nginx[many])} | | | |");
        Line($"| e | metadata fetches per audience per refresh cycle, {settings.RefreshCallers} concurrent callers | {string.Join(", ", results.Refresh.Select(run => run.FetchesPerCycle.ToString("0.00", CultureInfo.InvariantCulture)))} | | | exactly 1 | {Verdict(results.Refresh.All(run => run.Fetches == run.DistinctTokens && run.Fetches > 0))} |");
        Line();

        Line("## Proxy (d)");
        Line();
        Line($"Unary `Echo` RPCs (sample service, `EchoRequest{{message: \"bench\"}}`), {settings.RpcsOne:N0} on 1 stream over 1 connection, then {settings.RpcsMany:N0} on");
        Line($"{many} concurrent streams over {settings.RpcConnections} connections, after {settings.RpcWarmup:N0} warm-up RPCs; every variant reaches the same TLS HTTP/2 upstream.");
        Line();
        Line("| variant | streams | req/s | p50 | p99 | added p50 | added p99 | proxy CPU per RPC | context switches per RPC |");
        Line("|---|---|---|---|---|---|---|---|---|");
        foreach (var run in results.Proxy)
        {
            var baseline = direct[run.Concurrency].Result;
            var isDirect = run.Variant.StartsWith("direct", StringComparison.Ordinal);
            Line($"| {run.Variant} | {run.Concurrency} | {Rate(run.Result.RequestsPerSecond)} | {Us(run.Result.P50)} | {Us(run.Result.P99)} | "
                + $"{(isDirect ? "" : Us(run.Result.P50 - baseline.P50))} | {(isDirect ? "" : Us(run.Result.P99 - baseline.P99))} | "
                + $"{(run.ProxyCpuPerRpc is { } cpu ? Us(cpu) : "")} | {(run.Cost is null ? "" : Switches(run))} |");
        }

        Line();
        Line("Where a sidecar's time goes on one call, and what was changed or tried to cut it: [PROXY-COST.md](PROXY-COST.md).");

        Line();
        Line("## Token refresh under load (e)");
        Line();
        Line($"{settings.RefreshCallers} callers on as many socket connections, each asking for one of three audiences in a loop for");
        Line($"{settings.RefreshDuration.TotalSeconds:0} s, with ID tokens living {settings.RefreshTokenLifetimeSeconds} s (the sidecar refreshes when half the lifetime is left).");
        Line("A refresh cycle is one distinct token handed to callers; metadata fetches are the emulator's identity request count.");
        Line();
        Line("| audience | kind | metadata fetches | refresh cycles | fetches per cycle | socket requests | failed |");
        Line("|---|---|---|---|---|---|---|");
        foreach (var run in results.Refresh)
        {
            Line($"| {run.Audience} | {run.Kind} | {run.Fetches} | {run.DistinctTokens} | {run.FetchesPerCycle:0.00} | {run.Requests:N0} | {run.Failures:N0} |");
        }

        Line();
        Line("## How each figure is measured");
        Line();
        Line("- **RSS** (a): `VmRSS` of `/proc/PID/status`, read 3 s after `/readyz` turned 200 (idle), then after the token API");
        Line("  load; each proxy variant's sidecar is a fresh one, read idle and after its RPCs. The baseline is read the same way");
        Line("  after its first answer.");
        Line($"- **Start-up** (b): from starting the process to the first 200 of `/readyz` (sidecar, {SidecarConfiguration}) or of its");
        Line($"  endpoint (bare Kestrel), polled every millisecond over TCP; the median of {settings.StartRepeats} starts after one unmeasured start.");
        Line("- **Token API** (c): a .NET load generator (`bench/Bench`) with keep-alive HTTP/1.1 connections on the Unix socket,");
        Line($"  each sending its next `GET /v1/token` when the previous answer is in (closed loop): {settings.TokenWarmup:N0} warm-up requests,");
        Line($"  then {settings.TokenRequestsOne:N0} on 1 connection and {settings.TokenRequestsMany:N0} on {settings.TokenConcurrency}. Latencies go into a log-linear histogram");
        Line("  (1.6 % resolution). The baseline answers every request with 900 bytes, the size of an ID token, written the same way.");
        Line("  Server CPU per request is the process's utime + stime delta (`/proc/PID/stat`) over the requests.");
        Line("- **Proxy** (d): the same load generator with Grpc.Net.Client and the sample's `Echo` client (h2load reports no");
        Line("  percentiles). Proxy CPU per RPC is the utime + stime delta of the proxy's process tree (nginx master and worker)");
        Line("  over the RPCs; context switches per RPC are the voluntary + involuntary switches of all its threads");
        Line("  (`/proc/PID/task/*/status`) over the RPCs. Each sidecar variant is a fresh process, read idle then after its");
        Line("  RPCs for RSS. Added latency is the variant's percentile minus the direct calls' at the same concurrency. nginx");
        Line("  (`grpc_pass grpcs://`, 1 worker) and haproxy (h2 both sides, 1 thread) add a static `authorization` header with");
        Line("  a token of the same audience; both verify the upstream against the test CA. The sidecar's egress port takes the");
        Line("  same RPCs on a channel addressed to `http://HOST` (the service) whose connections dial the port, so the upstream");
        Line("  and audience come from each request's `:authority` (`--egress-host HOST`, `--resolve HOST:443:127.0.0.1:PORT`).");
        Line("- **Refresh** (e): the metadata emulator's per-audience identity request count (`/emulator/stats`) after the callers");
        Line("  stop, against the number of distinct tokens the callers received (tokens are compared in memory, never printed).");
        return text.ToString();
    }

    private static string Streams(int streams) => streams == 1 ? "1 stream" : $"{streams} streams";

    private static string Switches(ProxyRun run) => string.Create(
        CultureInfo.InvariantCulture, $"{run.Cost!.VoluntarySwitchesPerRpc + run.Cost.InvoluntarySwitchesPerRpc:0.0}");

    private static string Verdict(bool met) => met ? "met" : "**MISSED**";

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / Mebibyte:0.0} MiB");

    private static string Ms(TimeSpan time) => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0} ms");

    private static string Us(TimeSpan time) => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMicroseconds:0} µs");

    private static string Rate(double perSecond) => string.Create(CultureInfo.InvariantCulture, $"{perSecond:N0}/s");

    private static string Ratio(double value, double baseline) =>
        baseline == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{value / baseline:0.00}×");
}
