using System.Globalization;
using System.Text;
using TokenInjector.Bench.Measuring;
using TokenInjector.Bench.Running;

namespace TokenInjector.Bench.Reporting;

/// <summary>
/// Turns a run's results into docs/BENCHMARKS.md (also printed): the machine, one summary table where each figure
/// stands beside its baseline and its goal, then the proxy and refresh details, every compared figure round by round,
/// and how each figure is measured. A figure is the median over the rounds with its range; a ratio is taken within
/// each round, against the baseline measured in that round, before the median is. Every number comes from the
/// results; none is typed here.
/// </summary>
internal static class BenchReport
{
    private const double Mebibyte = 1024 * 1024;
    private const double IdleRssGoalMebibytes = 24;
    private const double AfterRpcsGoalMebibytes = 36;
    private const double QuietAboveIdleGoalMebibytes = 4;
    private const double StartGoalRatio = 2;
    private const double TokenThroughputGoalRatio = 0.8;
    private static readonly TimeSpan TokenP99Goal = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan AddedP50Goal = TimeSpan.FromMicroseconds(150);
    private const double NginxCpuGoalRatio = 0.5;
    private const string SidecarConfiguration = "3 audiences and 2 routes configured, so 5 tokens fetched first";

    public static string ToMarkdown(BenchResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var (machine, settings, rounds) = (results.Machine, results.Settings, results.Rounds);
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        var figures = new List<Figure>();

        // A figure of every round, kept for the round-by-round table when it is compared across runs.
        Spread Over(Func<BenchRound, double> value) => Spread.Of(rounds.Select(value));
        Spread Compared(string name, FigureUnit unit, Func<BenchRound, double> value)
        {
            var figure = new Figure(name, unit, [.. rounds.Select(value)]);
            figures.Add(figure);
            return figure.Spread;
        }

        var quiet = settings.QuietPeriod == TimeSpan.FromMinutes(1) ? "a quiet minute" : $"{settings.QuietPeriod.TotalSeconds:0} quiet seconds";

        Line("# Benchmarks");
        Line();
        Line("Written by `scripts/bench`, which publishes release builds, runs every part on this machine in one go and");
        Line("writes this page: edit nothing here by hand, run the command again. Every comparison is measured in");
        Line($"{settings.Rounds} rounds, and within a round in {settings.Turns} turns (the sidecar variants, haproxy, nginx and the direct calls;");
        Line("the sidecar's socket, bare Kestrel's and the sidecar's metadata endpoint), and each ratio");
        Line("is taken within a round, against the baseline measured in that round; a figure is the median over the rounds,");
        Line("with the lowest and highest round in brackets. The load generator shares the machine's cores with what it");
        Line("measures, so ratios and CPU per request say more than absolute rates.");
        if (settings.IsQuick)
        {
            Line();
            Line($"**A `--quick` run**: loads ten times shorter and {quiet} instead of a minute; it checks the harness, its figures are not comparable.");
        }

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
        Line($"| injector build | {rounds[0].Sidecar.Build} |");
        Line($"| baseline build | bare Kestrel (`bench/BareKestrel`), {rounds[0].Bare.Build}, published with the injector's publish properties |");
        Line($"| pinning | {results.Cores.Describe()} |");
        Line($"| rounds | {settings.Rounds} |");
        Line($"| run time | {results.Duration.TotalMinutes:0.0} min (measuring, after the builds) |");
        Line();

        var main = SidecarVariant.Measured[0].Name;
        var many = settings.RpcConcurrency;
        int[] streamCounts = [1, many];

        Line("## Summary");
        Line();
        Line($"| | figure | token-injector | baseline | ratio, median (range) of {settings.Rounds} rounds | goal | |");
        Line("|---|---|---|---|---|---|---|");

        var idle = Compared("idle RSS (token API sidecar)", FigureUnit.Mebibytes, round => round.Sidecar.IdleRssBytes / Mebibyte);
        var bareIdle = Over(round => round.Bare.IdleRssBytes / Mebibyte);
        var idleRatio = Compared("idle RSS ÷ bare Kestrel's", FigureUnit.Ratio, round => (double)round.Sidecar.IdleRssBytes / round.Bare.IdleRssBytes);
        Line($"| a | idle RSS (3 audiences + 2 routes, tokens fetched) | {Mib(idle)} | bare Kestrel {Mib(bareIdle)} | {Times(idleRatio)} | ≤ {IdleRssGoalMebibytes:0} MiB | {Verdict(idle.Median <= IdleRssGoalMebibytes)} |");
        var afterTokens = Over(round => round.Sidecar.RssAfterTokenLoadBytes / Mebibyte);
        var afterTokensRatio = Compared($"RSS after {settings.TokenRequestsTotal:N0} token requests, and as many to the metadata endpoint ÷ bare Kestrel's", FigureUnit.Ratio,
            round => (double)round.Sidecar.RssAfterTokenLoadBytes / round.Bare.RssAfterTokenLoadBytes);
        Line($"| a | RSS after {settings.TokenRequestsTotal:N0} token requests, and as many to the metadata endpoint | {Mib(afterTokens)} | bare Kestrel after as many requests {Mib(Over(round => round.Bare.RssAfterTokenLoadBytes / Mebibyte))} | {Times(afterTokensRatio)} | | |");
        foreach (var variant in rounds[0].SidecarMemory.Select(memory => memory.Variant))
        {
            SidecarMemoryRun Of(BenchRound round) => round.SidecarMemory.Single(memory => memory.Variant == variant);
            var variantIdle = Compared($"idle RSS ({variant})", FigureUnit.Mebibytes, round => Of(round).IdleRssBytes / Mebibyte);
            var after = Compared($"RSS after {settings.RpcsTotal:N0} proxied RPCs ({variant})", FigureUnit.Mebibytes, round => Of(round).RssAfterRpcsBytes / Mebibyte);
            var afterRatio = Over(round => (double)Of(round).RssAfterRpcsBytes / Of(round).IdleRssBytes);
            Line($"| a | RSS after {settings.RpcsTotal:N0} proxied RPCs ({variant}) | {Mib(after)} | its idle RSS {Mib(variantIdle)} | {Times(afterRatio)} | ≤ {AfterRpcsGoalMebibytes:0} MiB | {Verdict(after.Median <= AfterRpcsGoalMebibytes)} |");
            var rested = Compared($"RSS after {quiet} ({variant})", FigureUnit.Mebibytes, round => Of(round).RssAfterQuietBytes / Mebibyte);
            var aboveIdle = Over(round => (Of(round).RssAfterQuietBytes - Of(round).IdleRssBytes) / Mebibyte);
            Line($"| a | RSS after {settings.RpcsTotal:N0} proxied RPCs and then {quiet} ({variant}) | {Mib(rested)} | its idle RSS {Mib(variantIdle)} | {Times(Over(round => (double)Of(round).RssAfterQuietBytes / Of(round).IdleRssBytes))} | ≤ {QuietAboveIdleGoalMebibytes:0} MiB above idle | {Verdict(aboveIdle.Median <= QuietAboveIdleGoalMebibytes)} |");
        }

        var start = Over(round => round.Sidecar.StartMedian.TotalMilliseconds);
        var bareStart = Over(round => round.Bare.StartMedian.TotalMilliseconds);
        var startRatio = Compared("start → ready ÷ bare Kestrel's", FigureUnit.Ratio, round => round.Sidecar.StartMedian / round.Bare.StartMedian);
        Line($"| b | start → `/readyz` 200 (median of {settings.StartRepeats} per round) | {Ms(start)} | bare Kestrel start → first answer {Ms(bareStart)} | {Times(startRatio)} | ≤ {StartGoalRatio:0}× bare | {Verdict(startRatio.Median <= StartGoalRatio)} |");

        foreach (var (connections, label, select) in new (int, string, Func<TokenApiRun, LoadResult>)[] { (1, "1 connection", api => api.One), (settings.TokenConcurrency, $"{settings.TokenConcurrency} connections", api => api.Many) })
        {
            var rate = Over(round => select(round.Sidecar.TokenApi).RequestsPerSecond);
            var bareRate = Over(round => select(round.Bare.TokenApi).RequestsPerSecond);
            var rateRatio = Compared($"token API req/s ÷ bare Kestrel's, {label}", FigureUnit.Ratio,
                round => select(round.Sidecar.TokenApi).RequestsPerSecond / select(round.Bare.TokenApi).RequestsPerSecond);
            Line($"| c | token API req/s, {label} | {Rate(rate)} | {(connections == 1 ? "bare Kestrel on a Unix socket " : "")}{Rate(bareRate)} | {Times(rateRatio)} | ≥ {TokenThroughputGoalRatio:0.0}× bare | {Verdict(rateRatio.Median >= TokenThroughputGoalRatio)} |");
            var p99 = Over(round => select(round.Sidecar.TokenApi).P99.TotalMicroseconds);
            var goal = connections == 1 ? " | " : $" p99 ≤ {TokenP99Goal.TotalMicroseconds:0} µs | {Verdict(p99.Median <= TokenP99Goal.TotalMicroseconds)} ";
            Line($"| c | token API p50 / p99, {label} | {Us(Over(round => select(round.Sidecar.TokenApi).P50.TotalMicroseconds))} / {Us(p99)} | {Us(Over(round => select(round.Bare.TokenApi).P50.TotalMicroseconds))} / {Us(Over(round => select(round.Bare.TokenApi).P99.TotalMicroseconds))} | |{goal}|");
        }

        foreach (var (label, select) in new (string, Func<TokenApiRun, TimeSpan>)[] { ("1 connection", api => api.CpuPerRequestOne), ($"{settings.TokenConcurrency} connections", api => api.CpuPerRequestMany) })
        {
            var cpuRatio = Compared($"server CPU per token request ÷ bare Kestrel's, {label}", FigureUnit.Ratio,
                round => select(round.Sidecar.TokenApi) / select(round.Bare.TokenApi));
            Line($"| c | server CPU per token request, {label} | {Us(Over(round => select(round.Sidecar.TokenApi).TotalMicroseconds))} | {Us(Over(round => select(round.Bare.TokenApi).TotalMicroseconds))} | {Times(cpuRatio)} | | |");
        }

        if (rounds.All(round => round.Sidecar.MetadataIdentity is not null))
        {
            foreach (var (label, select) in new (string, Func<TokenApiRun, LoadResult>)[] { ("1 connection", api => api.One), ($"{settings.TokenConcurrency} connections", api => api.Many) })
            {
                var identityRatio = Compared($"metadata identity req/s ÷ token API's, {label}", FigureUnit.Ratio,
                    round => select(round.Sidecar.MetadataIdentity!).RequestsPerSecond / select(round.Sidecar.TokenApi).RequestsPerSecond);
                Line($"| c | metadata endpoint identity req/s (TCP), {label} | {Rate(Over(round => select(round.Sidecar.MetadataIdentity!).RequestsPerSecond))} | token API (Unix socket) {Rate(Over(round => select(round.Sidecar.TokenApi).RequestsPerSecond))} | {Times(identityRatio)} | | |");
            }

            Line($"| c | metadata endpoint identity p50 / p99, {settings.TokenConcurrency} connections | {Us(Over(round => round.Sidecar.MetadataIdentity!.Many.P50.TotalMicroseconds))} / {Us(Over(round => round.Sidecar.MetadataIdentity!.Many.P99.TotalMicroseconds))} | {Us(Over(round => round.Sidecar.TokenApi.Many.P50.TotalMicroseconds))} / {Us(Over(round => round.Sidecar.TokenApi.Many.P99.TotalMicroseconds))} | | | |");
        }

        // Proxy figures of one variant at one stream count, within a round; the added latencies against that round's direct calls.
        static ProxyRun Run(BenchRound round, string variant, int streams) => round.Proxy.Single(run => run.Variant == variant && run.Concurrency == streams);
        static double Cpu(BenchRound round, string variant, int streams) => Run(round, variant, streams).ProxyCpuPerRpc!.Value.TotalMicroseconds;
        static double CpuRatio(BenchRound round, string variant, string baseline, int streams) => Cpu(round, variant, streams) / Cpu(round, baseline, streams);
        static double AddedP50(BenchRound round, string variant, int streams) =>
            (Run(round, variant, streams).Result.P50 - Run(round, BenchRunner.DirectVariant, streams).Result.P50).TotalMicroseconds;
        static double AddedP99(BenchRound round, string variant, int streams) =>
            (Run(round, variant, streams).Result.P99 - Run(round, BenchRunner.DirectVariant, streams).Result.P99).TotalMicroseconds;
        var variants = rounds[0].Proxy.Select(run => run.Variant).Distinct().ToList();
        var proxied = variants.Where(variant => variant != BenchRunner.DirectVariant).ToList();
        var sidecars = proxied.Where(variant => variant is not ("haproxy" or "nginx")).ToList();
        var cpuRatios = new Dictionary<(string, int), Spread>();
        var added = new Dictionary<(string, int), Spread>();
        foreach (var streams in streamCounts)
        {
            foreach (var variant in sidecars)
            {
                cpuRatios[(variant, streams)] = Compared($"proxy CPU per RPC ÷ haproxy's, {variant}, {Streams(streams)}", FigureUnit.Ratio, round => CpuRatio(round, variant, "haproxy", streams));
            }

            cpuRatios[("nginx", streams)] = Compared($"proxy CPU per RPC ÷ haproxy's, nginx, {Streams(streams)}", FigureUnit.Ratio, round => CpuRatio(round, "nginx", "haproxy", streams));
        }

        var ofNginx = Compared($"proxy CPU per RPC ÷ nginx's, {main}, {Streams(many)}", FigureUnit.Ratio, round => CpuRatio(round, main, "nginx", many));
        foreach (var streams in streamCounts)
        {
            foreach (var variant in proxied)
            {
                added[(variant, streams)] = Compared($"added p50 over direct, {variant}, {Streams(streams)}", FigureUnit.Microseconds, round => AddedP50(round, variant, streams));
            }
        }

        foreach (var streams in streamCounts)
        {
            var ours = Over(round => Cpu(round, main, streams));
            var (haproxyCpu, nginxCpu) = (Over(round => Cpu(round, "haproxy", streams)), Over(round => Cpu(round, "nginx", streams)));
            var ratio = cpuRatios[(main, streams)];
            var (goal, met, ratios) = streams == 1
                ? ("≤ haproxy", ratio.Median <= 1, $"{Times(ratio)} of haproxy")
                : ($"≤ haproxy and ≤ {NginxCpuGoalRatio:0.0}× nginx", ratio.Median <= 1 && ofNginx.Median <= NginxCpuGoalRatio, $"{Times(ratio)} of haproxy, {Times(ofNginx)} of nginx");
            Line($"| d | proxy CPU per RPC, {Streams(streams)} ({main}) | {Us(ours)} | haproxy {Us(haproxyCpu)}, nginx {Us(nginxCpu)} | {ratios} | {goal} | {Verdict(met)} |");
        }

        foreach (var streams in streamCounts)
        {
            var ours = added[(main, streams)];
            var best = Math.Min(added[("haproxy", streams)].Median, added[("nginx", streams)].Median);
            var goal = streams == 1 ? $"≤ {AddedP50Goal.TotalMicroseconds:0} µs and ≤ the better reference" : "≤ the better reference";
            var met = ours.Median <= best && (streams != 1 || ours.Median <= AddedP50Goal.TotalMicroseconds);
            Line($"| d | added p50 over direct, {Streams(streams)} ({main}) | {Us(ours)} | haproxy {Us(added[("haproxy", streams)])}, nginx {Us(added[("nginx", streams)])} | | {goal} | {Verdict(met)} |");
        }

        Spread SwitchesOf(string variant, int streams) => Over(round => Switches(Run(round, variant, streams)));
        Line($"| d | context switches per RPC, 1 / {many} streams ({main}) | {Count(SwitchesOf(main, 1))} / {Count(SwitchesOf(main, many))} | haproxy {Count(SwitchesOf("haproxy", 1))} / {Count(SwitchesOf("haproxy", many))}, nginx {Count(SwitchesOf("nginx", 1))} / {Count(SwitchesOf("nginx", many))} | | | |");
        Line($"| e | metadata fetches per audience per refresh cycle, {settings.RefreshCallers} concurrent callers | {string.Join(", ", results.Refresh.Select(run => run.FetchesPerCycle.ToString("0.00", CultureInfo.InvariantCulture)))} | | | exactly 1 | {Verdict(results.Refresh.All(run => run.Fetches == run.DistinctTokens && run.Fetches > 0))} |");
        Line();

        Line("## Proxy (d)");
        Line();
        Line($"Unary `Echo` RPCs (sample service, `EchoRequest{{message: \"bench\"}}`), {settings.RpcsOne:N0} on 1 stream over 1 connection, then {settings.RpcsMany:N0} on");
        Line($"{many} concurrent streams over {settings.RpcConnections} connections, after {settings.RpcWarmup:N0} warm-up RPCs; every variant reaches the same TLS HTTP/2 upstream");
        Line("(the direct calls an identical one on a core away from the client's). Each cell is the median of the rounds; the");
        Line("ranges of the added p50 and of the CPU ratio are the lowest and highest round.");
        Line();
        Line("| variant | streams | req/s | p50 | p99 | added p50 | added p99 | proxy CPU per RPC | × haproxy | context switches per RPC |");
        Line("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var streams in streamCounts)
        {
            foreach (var variant in variants)
            {
                var isDirect = variant == BenchRunner.DirectVariant;
                var hasCost = !isDirect;
                Line($"| {variant} | {streams} | {Rate(Over(round => Run(round, variant, streams).Result.RequestsPerSecond).Median)} | "
                    + $"{Us(Over(round => Run(round, variant, streams).Result.P50.TotalMicroseconds).Median)} | {Us(Over(round => Run(round, variant, streams).Result.P99.TotalMicroseconds).Median)} | "
                    + $"{(isDirect ? "" : Us(added[(variant, streams)]))} | {(isDirect ? "" : Us(Over(round => AddedP99(round, variant, streams)).Median))} | "
                    + $"{(hasCost ? Us(Over(round => Cpu(round, variant, streams)).Median) : "")} | "
                    + $"{(hasCost && variant != "haproxy" ? Times(cpuRatios[(variant, streams)]) : "")} | {(hasCost ? Count(SwitchesOf(variant, streams)) : "")} |");
            }
        }

        Line();
        Line("Where a sidecar's time goes on one call, and what was changed or tried to cut it: [PROXY-COST.md](PROXY-COST.md).");

        Line();
        Line("## Token refresh under load (e)");
        Line();
        Line($"{settings.RefreshCallers} callers on as many socket connections, each asking for one of three audiences in a loop for");
        Line($"{settings.RefreshDuration.TotalSeconds:0} s, with ID tokens living {settings.RefreshTokenLifetimeSeconds} s (the sidecar refreshes when half the lifetime is left);");
        Line("measured once, after the rounds. A refresh cycle is one distinct token handed to callers; metadata fetches are the");
        Line("emulator's identity request count.");
        Line();
        Line("| audience | kind | metadata fetches | refresh cycles | fetches per cycle | socket requests | failed |");
        Line("|---|---|---|---|---|---|---|");
        foreach (var run in results.Refresh)
        {
            Line($"| {run.Audience} | {run.Kind} | {run.Fetches} | {run.DistinctTokens} | {run.FetchesPerCycle:0.00} | {run.Requests:N0} | {run.Failures:N0} |");
        }

        Line();
        Line(FigureTable.Heading);
        Line();
        Line("Every figure two runs are compared on (`scripts/bench --compare A.md B.md`): its median, lowest and highest");
        Line("round, range as a share of the median, and its value in each round.");
        Line();
        FigureTable.Write(text, figures, settings.Rounds);

        Line();
        Line("## How each figure is measured");
        Line();
        Line($"- **Rounds**: the run measures everything below {settings.Rounds} times over, in rounds. In each round: the start-ups");
        Line("  (the sidecar's and bare Kestrel's starts taking turns), then the token API of a fresh sidecar and of a fresh bare");
        Line("  Kestrel running side by side, loaded in turns; then the RPCs, in turns, through a fresh sidecar of each variant,");
        Line("  through haproxy, through nginx, and direct. A ratio");
        Line("  (or an added latency) is taken between two figures of the same round, so a slow minute of the machine weighs on");
        Line("  both sides of it; the page gives its median over the rounds and, in brackets, its lowest and highest round. Two");
        Line("  runs on one machine are compared with `scripts/bench --compare A.md B.md`, which reads their \"Figures, round by round\".");
        Line("- **Pinning**: what is measured has a core to itself (core 0) and the load generator another (core 1). The direct");
        Line("  calls must not pay for both ends of TLS on one core when a proxy's TLS to the upstream has a core of its own,");
        Line("  or every proxy looks faster than none (added latencies below zero): with a third core the upstream has it, and");
        Line("  client, proxy and upstream never share one; on two cores the upstream the proxies forward to shares the load");
        Line("  generator's core, and the direct calls go to a second, identical upstream on core 0 (nothing is measured there then), so");
        Line("  in every case the client's TLS and the upstream's run on different cores.");
        Line($"- **RSS** (a): `VmRSS` of `/proc/PID/status`, read {BenchRunner.IdleSettle.TotalSeconds:0} s after `/readyz` turned 200 (idle: past the sidecar's start-up");
        Line("  release, a second after ready, and past the round of probes below that follows it), then after the token API");
        Line("  load; the proxy variants' sidecars, fresh each round and running side by side, are read idle, once the RPCs'");
        Line($"  turns are over, and after {settings.QuietPeriod.TotalSeconds:0} s of wall time with no calls to any of them (and no other load).");
        Line("  From `/readyz` on, each sidecar gets what a pod's kubelet and Prometheus send it: `/healthz`");
        Line("  and `/readyz` every 10 s and `/metrics` every 30 s (`bench/Bench/Running/PodProbes.cs`). The baseline is read");
        Line("  the same way after its first answer, with no probes (it has no such endpoints). Both run as the image runs them:");
        Line($"  as user {ImageUser.Id}, from a copy of the executable that user owns, one per sidecar variant (`bench/Bench/Running/ImageUser.cs`:");
        Line("  the kernel hands a process's file pages back only for files it owns, and never pages two processes map).");
        Line($"- **Start-up** (b): from starting the process to the first 200 of `/readyz` (sidecar, {SidecarConfiguration}) or of its");
        Line($"  endpoint (bare Kestrel), polled every millisecond over TCP; per round, the median of {settings.StartRepeats} starts after one unmeasured start,");
        Line("  each from an executable read into the page cache just before, as on a node that has just pulled the image.");
        Line("- **Token API** (c): a .NET load generator (`bench/Bench`) with keep-alive HTTP/1.1 connections on the Unix socket,");
        Line($"  each sending its next `GET /v1/token` when the previous answer is in (closed loop): {settings.TokenWarmup:N0} warm-up requests,");
        Line($"  then {settings.TokenRequestsOne:N0} on 1 connection and {settings.TokenRequestsMany:N0} on {settings.TokenConcurrency}, each in {settings.Turns} equal turns: the sidecar's");
        Line("  socket, bare Kestrel's socket and the sidecar's metadata endpoint (the same token as Google's libraries ask for it,");
        Line("  over TCP) take a turn each, the first to go moving on by one every turn, and each one's figures are its turns added");
        Line("  up. The sidecar's RSS after the token requests is read after both its loads. Latencies go into a log-linear histogram");
        Line("  (1.6 % resolution). The baseline answers every request with 900 bytes, the size of an ID token, written the same way.");
        Line("  Server CPU per request is the process's utime + stime delta (`/proc/PID/stat`) over the requests.");
        Line("- **Proxy** (d): the same load generator with Grpc.Net.Client and the sample's `Echo` client (h2load reports no");
        Line($"  percentiles). After a warm-up of each, {settings.RpcsOne:N0} RPCs at 1 stream and then {settings.RpcsMany:N0} at {settings.RpcConcurrency} in {settings.Turns} equal turns");
        Line("  (every proxy and the direct calls take a turn each, the first to go moving on by one every turn); each one's");
        Line("  figures are its turns added up. Proxy CPU per RPC is the utime + stime delta of the proxy's process tree (nginx master and worker)");
        Line("  over the RPCs; context switches per RPC are the voluntary + involuntary switches of all its threads");
        Line("  (`/proc/PID/task/*/status`) over the RPCs. Added latency is the variant's percentile minus the direct calls' at");
        Line("  the same concurrency in the same round. nginx (`grpc_pass grpcs://`, 1 worker) and haproxy (h2 both sides,");
        Line("  1 thread) add a static `authorization` header with a token of the same audience; both verify the upstream against");
        Line("  the test CA. The sidecar's egress port takes the same RPCs on a channel addressed to `http://HOST` (the service)");
        Line("  whose connections dial the port, so the upstream and audience come from each request's `:authority`");
        Line("  (`--egress-host HOST`, `--resolve HOST:443:127.0.0.1:PORT`).");
        Line("- **Refresh** (e): the metadata emulator's per-audience identity request count (`/emulator/stats`) after the callers");
        Line("  stop, against the number of distinct tokens the callers received (tokens are compared in memory, never printed).");
        return text.ToString();
    }

    private static string Streams(int streams) => streams == 1 ? "1 stream" : $"{streams} streams";

    private static double Switches(ProxyRun run) => run.Cost!.VoluntarySwitchesPerRpc + run.Cost.InvoluntarySwitchesPerRpc;

    private static string Verdict(bool met) => met ? "met" : "**MISSED**";

    private static string Mib(Spread spread) => string.Create(CultureInfo.InvariantCulture, $"{spread.Median:0.0} MiB ({spread.Min:0.0}–{spread.Max:0.0})");

    private static string Ms(Spread spread) => string.Create(CultureInfo.InvariantCulture, $"{spread.Median:0} ms ({spread.Min:0}–{spread.Max:0})");

    private static string Us(Spread spread) => string.Create(CultureInfo.InvariantCulture, $"{spread.Median:0} µs ({spread.Min:0} to {spread.Max:0})");

    private static string Us(double microseconds) => string.Create(CultureInfo.InvariantCulture, $"{microseconds:0} µs");

    private static string Rate(Spread spread) => string.Create(CultureInfo.InvariantCulture, $"{spread.Median:N0}/s ({spread.Min:N0}–{spread.Max:N0})");

    private static string Rate(double perSecond) => string.Create(CultureInfo.InvariantCulture, $"{perSecond:N0}/s");

    private static string Count(Spread spread) => string.Create(CultureInfo.InvariantCulture, $"{spread.Median:0.0}");

    private static string Times(Spread spread) => double.IsNaN(spread.Median)
        ? "-"
        : string.Create(CultureInfo.InvariantCulture, $"{spread.Median:0.00}× ({spread.Min:0.00}–{spread.Max:0.00})");
}
