using TokenInjector.Bench.Measuring;
using TokenInjector.Bench.Reporting;
using TokenInjector.Bench.Running;

namespace TokenInjector.Tests.Bench.Reporting;

/// <summary>
/// Bench results made up in memory, one number per round where a test looks at it, so the report's arithmetic (ratios
/// within a round, medians over rounds) is checked without running a load.
/// </summary>
internal static class SyntheticRuns
{
    public const string Main = "token-injector route, pinned";
    private const double Mebibyte = 1024 * 1024;

    /// <param name="sidecarCpu">The main variant's proxy CPU per RPC at 32 streams in each round, in µs.</param>
    /// <param name="haproxyCpu">haproxy's, in the same rounds.</param>
    /// <param name="directP50">The direct calls' p50 in each round, in µs (the proxies' is 500 µs).</param>
    /// <param name="settings">The run's sizes; as many rounds as values, full-length, unless given.</param>
    public static BenchResults Results(double[] sidecarCpu, double[] haproxyCpu, double[] directP50, BenchSettings? settings = null)
    {
        settings ??= new BenchSettings { Rounds = sidecarCpu.Length };
        var rounds = sidecarCpu.Select((cpu, i) => Round(i + 1, cpu, haproxyCpu[i], directP50[i], settings)).ToList();
        var machine = new MachineFacts(DateTimeOffset.UnixEpoch, "abc", 2, "test CPU", "6.0", ".NET 10", "10.0.100", "nginx/1", "HAProxy 2");
        RefreshRun[] refresh = [new("https://a.example", "configured", 2, 2, 100, 0)];
        return new BenchResults(machine, settings, CoreLayout.For(2), rounds, refresh, TimeSpan.FromMinutes(3));
    }

    private static BenchRound Round(int number, double sidecarCpu, double haproxyCpu, double directP50, BenchSettings settings)
    {
        var tokenApi = new TokenApiRun(Load(50, 1_000), Load(500, 30_000), TimeSpan.FromMicroseconds(40), TimeSpan.FromMicroseconds(20));
        var sidecar = new ServerRun("NativeAOT", Mib(20), Mib(22), TimeSpan.FromMilliseconds(40), tokenApi, tokenApi);
        var bare = new ServerRun("NativeAOT", Mib(15), Mib(16), TimeSpan.FromMilliseconds(25), tokenApi);
        var proxy = new List<ProxyRun>();
        foreach (var streams in new[] { 1, settings.RpcConcurrency })
        {
            foreach (var variant in SidecarVariant.Measured)
            {
                proxy.Add(Proxied(variant.Name, streams, sidecarCpu));
            }

            proxy.Add(Proxied("haproxy", streams, haproxyCpu));
            proxy.Add(Proxied("nginx", streams, haproxyCpu * 2));
            proxy.Add(new ProxyRun(BenchRunner.DirectVariant, streams, Load(directP50, 2_000), null));
        }

        var memory = SidecarVariant.Measured.Select(variant => new SidecarMemoryRun(variant.Name, Mib(20), Mib(30), Mib(21 + number))).ToList();
        return new BenchRound(number, sidecar, bare, memory, proxy);
    }

    private static ProxyRun Proxied(string variant, int streams, double cpu) =>
        new(variant, streams, Load(500, 2_000), new ProxyCost(TimeSpan.FromMicroseconds(cpu), 2, 0.5));

    /// <summary>A load of 10,000 requests whose latencies are all <paramref name="microseconds"/>.</summary>
    private static LoadResult Load(double microseconds, double perSecond)
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 10_000; i++)
        {
            histogram.Record((long)(microseconds * 1_000));
        }

        return new LoadResult(10_000, TimeSpan.FromSeconds(10_000 / perSecond), histogram);
    }

    private static long Mib(double mebibytes) => (long)(mebibytes * Mebibyte);
}
