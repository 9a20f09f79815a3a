using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TokenInjector.Bench.Load;
using TokenInjector.Bench.Measuring;
using TokenInjector.Bench.Reporting;
using TokenInjector.Bench.Upstream;
using TokenInjector.DevStack.Certificates;
using TokenInjector.DevStack.Files;
using TokenInjector.DevStack.Network;
using TokenInjector.DevStack.Processes;
using TokenInjector.DevStack.Stack;

namespace TokenInjector.Bench.Running;

/// <summary>
/// One benchmark run, every part its own process on loopback: the metadata emulator, the TLS echo upstream, the
/// sidecar (and the bare Kestrel baseline, nginx, haproxy) pinned to core 0 while this load generator, the upstream and
/// the emulator stay on core 1 (scripts/bench pins this process there; children inherit it). Every process is stopped
/// and the work directory removed at the end, whatever happened.
/// </summary>
internal sealed class BenchRunner(BenchPrograms programs, BenchSettings settings, TextWriter log)
{
    public const string ServiceHost = "echo-bench-abc123-uc.a.run.app";
    private const string ServiceUrl = "https://" + ServiceHost;
    private const string CustomAudience = "https://custom-audience.bench.example";
    private const string MeasuredCore = "0";
    private static readonly string AllCores = $"0-{MachineFacts.CoreCount() - 1}";

    private static readonly string[] Audiences =
        ["https://billing-abc123-uc.a.run.app", "https://inventory-abc123-uc.a.run.app", "https://ledger-abc123-uc.a.run.app"];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan IdleSettle = TimeSpan.FromSeconds(3);

    private readonly List<ChildProcess> _children = [];
    private string _directory = "";
    private string _caFile = "";
    private string _metadataHostAndPort = "";
    private int _upstreamPort;

    public Task<BenchResults> RunAsync(MachineFacts machine, CancellationToken cancellationToken) => InWorkDirectoryAsync(async () =>
    {
        var clock = Stopwatch.StartNew();
        log.WriteLine("(b) start-up: sidecar to /readyz 200, bare Kestrel to its first answer");
        var sidecarStart = await MedianStartAsync(SidecarStart, cancellationToken);
        var bareStart = await MedianStartAsync(BareStart, cancellationToken);

        log.WriteLine("(a, c) bare Kestrel: idle memory, token-sized answers over its Unix socket");
        var bare = await MeasureBareAsync(bareStart, cancellationToken);

        log.WriteLine("(a, c) sidecar: idle memory, token API");
        var (sidecar, token) = await MeasureSidecarAsync(sidecarStart, cancellationToken);

        log.WriteLine("(d) the same RPCs direct to the upstream, through each sidecar variant, through nginx and through haproxy");
        var proxy = new List<ProxyRun>();
        proxy.AddRange(await MeasureDirectAsync(token, cancellationToken));
        var memory = new List<SidecarMemoryRun>();
        foreach (var variant in SidecarVariant.Measured)
        {
            var (runs, rss) = await MeasureSidecarProxyAsync(variant, attach: null, cancellationToken);
            proxy.AddRange(runs);
            memory.Add(rss);
        }

        proxy.AddRange(await MeasureReferenceProxiesAsync(token, cancellationToken));

        log.WriteLine($"(e) refresh: {settings.RefreshCallers} socket callers for {settings.RefreshDuration.TotalSeconds:0} s, tokens living {settings.RefreshTokenLifetimeSeconds} s");
        var refresh = await MeasureRefreshAsync(cancellationToken);

        return new BenchResults(machine, settings, sidecar, bare, memory, proxy, refresh, clock.Elapsed);
    }, cancellationToken);

    /// <summary>
    /// The proxy's cost alone (<c>bench cost</c>): haproxy as the baseline, then each sidecar variant, at 1 and at many
    /// streams, with <paramref name="attach"/> (a profiler) beside each sidecar load when given.
    /// </summary>
    public Task<IReadOnlyList<ProxyRun>> RunCostAsync(
        IReadOnlyList<SidecarVariant> variants, AttachCommand? attach, CancellationToken cancellationToken) => InWorkDirectoryAsync(async () =>
    {
        var ports = FreePort.Take(4);
        var sidecar = StartSidecar("token.sock", ports[0], ports[1..3], ports[3]);
        await Readiness.WaitForOkAsync(sidecar, new IPEndPoint(IPAddress.Loopback, ports[0]), "/readyz", StartTimeout, cancellationToken);
        var token = await RouteTokenAsync(sidecar, Path.Combine(_directory, "token.sock"), cancellationToken);
        await StopAsync(sidecar);

        var configs = new ProxyConfigs(_directory, ServiceHost, _upstreamPort, _caFile, token);
        var proxy = new List<ProxyRun>(await MeasureReferenceProxyAsync("haproxy", "haproxy", port => ["-db", "-f", configs.WriteHaproxy(port)], cancellationToken));
        foreach (var variant in variants)
        {
            var (runs, _) = await MeasureSidecarProxyAsync(variant, attach, cancellationToken);
            proxy.AddRange(runs);
        }

        return (IReadOnlyList<ProxyRun>)proxy;
    }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="measure"/> with a fresh work directory, the test CA, the metadata emulator and the TLS echo
    /// upstream; every process is stopped and the directory removed after, whatever happened.
    /// </summary>
    private async Task<T> InWorkDirectoryAsync<T>(Func<Task<T>> measure, CancellationToken cancellationToken)
    {
        using var directory = new TempDirectory("token-injector-bench-");
        using var authority = DevCertificateAuthority.Create();
        _directory = directory.Path;
        try
        {
            _caFile = authority.WriteCaPem(_directory);
            using var certificate = authority.IssueServerCertificate(ServiceHost);
            var (certificateFile, keyFile) = DevCertificateAuthority.WritePem(certificate, _directory, "server");
            _metadataHostAndPort = (await StartMetadataEmulatorAsync(TimeSpan.FromHours(1), cancellationToken)).HostAndPort;
            _upstreamPort = FreePort.Next();
            var upstream = Track(ChildProcess.Start(Path.Combine(AppContext.BaseDirectory, "bench.dll"),
                ["upstream", Invariant(_upstreamPort), certificateFile, keyFile], name: "upstream"));
            await upstream.WaitForLineAsync(line => line == UpstreamCommand.ListeningLine, StartTimeout, cancellationToken);
            return await measure();
        }
        catch (ChildProcessException ex)
        {
            log.WriteLine($"last lines of {ex.Child.Name}:");
            foreach (var line in ex.Child.RecentLines())
            {
                log.WriteLine("  | " + line);
            }

            throw;
        }
        finally
        {
            await Task.WhenAll(_children.Select(child => child.StopAsync(StopGrace)));
            foreach (var child in _children)
            {
                child.Dispose();
            }
        }
    }

    private async Task<MetadataEmulatorProcess> StartMetadataEmulatorAsync(TimeSpan tokenLifetime, CancellationToken cancellationToken)
    {
        var metadata = await MetadataEmulatorProcess.StartAsync(programs.Emulators, tokenLifetime, serviceAccount: null, StartTimeout, cancellationToken);
        Track(metadata.Process);
        return metadata;
    }

    private async Task<TimeSpan> MedianStartAsync(Func<int, (ChildProcess Child, EndPoint Endpoint, string Path)> start, CancellationToken cancellationToken)
    {
        var times = new List<TimeSpan>();
        // One start more than measured: the first pays for a cold page cache.
        for (var i = 0; i <= settings.StartRepeats; i++)
        {
            var clock = Stopwatch.StartNew();
            var (child, endpoint, path) = start(i);
            await Readiness.WaitForOkAsync(child, endpoint, path, StartTimeout, cancellationToken);
            var elapsed = clock.Elapsed;
            if (i > 0)
            {
                times.Add(elapsed);
            }

            await StopAsync(child);
        }

        times.Sort();
        return (times[(times.Count - 1) / 2] + times[times.Count / 2]) / 2;
    }

    private (ChildProcess, EndPoint, string) SidecarStart(int attempt)
    {
        var ports = FreePort.Take(4);
        var child = StartSidecar($"start-{attempt}.sock", ports[0], ports[1..3], ports[3]);
        return (child, new IPEndPoint(IPAddress.Loopback, ports[0]), "/readyz");
    }

    private (ChildProcess, EndPoint, string) BareStart(int attempt)
    {
        var port = FreePort.Next();
        var child = StartBare($"bare-start-{attempt}.sock", port);
        return (child, new IPEndPoint(IPAddress.Loopback, port), "/");
    }

    // The egress port reaches the same upstream as the routes: the service's host on 443, connected to the upstream's port.
    private ChildProcess StartSidecar(string socketName, int adminPort, int[] routePorts, int egressPort, SidecarVariant? variant = null, int? metadataPort = null)
    {
        var environment = new Dictionary<string, string>(variant?.Environment ?? new Dictionary<string, string>())
        {
            ["GCE_METADATA_HOST"] = _metadataHostAndPort,
        };
        return Start(variant?.Name ?? "injector sidecar", "taskset",
        [
            "-c", variant is { Pinned: false } ? AllCores : MeasuredCore, programs.Injector, "sidecar",
            "--audience", Audiences[0], "--audience", Audiences[1], "--audience", Audiences[2],
            "--route", $"{routePorts[0]}={ServiceUrl}:{_upstreamPort}",
            "--route", $"{routePorts[1]}={ServiceUrl}:{_upstreamPort}={CustomAudience}",
            "--resolve", $"{ServiceHost}:{_upstreamPort}:127.0.0.1",
            "--egress", Invariant(egressPort),
            "--egress-host", ServiceHost,
            "--resolve", $"{ServiceHost}:443:127.0.0.1:{_upstreamPort}",
            "--upstream-ca-file", _caFile,
            "--socket", Path.Combine(_directory, socketName),
            "--admin-address", $"127.0.0.1:{adminPort}",
            "--drain-timeout", "1s",
            .. metadataPort is { } metadata ? ["--metadata", Invariant(metadata)] : Array.Empty<string>(),
        ],
        environment);
    }

    private ChildProcess StartBare(string socketName, int port) =>
        Start("bare kestrel", "taskset", ["-c", MeasuredCore, programs.BareKestrel, "--socket", Path.Combine(_directory, socketName), "--port", Invariant(port)]);

    private async Task<ServerRun> MeasureBareAsync(TimeSpan startMedian, CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var bare = StartBare("bare.sock", port);
        await Readiness.WaitForOkAsync(bare, new IPEndPoint(IPAddress.Loopback, port), "/", StartTimeout, cancellationToken);
        await Task.Delay(IdleSettle, cancellationToken);
        var idle = ProcessStats.ResidentBytes(bare.Id);
        var tokenApi = await LoadTokenApiAsync(
            bare.Id, new UnixDomainSocketEndPoint(Path.Combine(_directory, "bare.sock")), Http1Connection.Get("/v1/token?audience=" + Audiences[0]), cancellationToken);
        var after = ProcessStats.ResidentBytes(bare.Id);
        await StopAsync(bare);
        return new ServerRun(BenchPrograms.BuildOf(programs.BareKestrel), idle, after, startMedian, tokenApi);
    }

    private async Task<(ServerRun Run, string Token)> MeasureSidecarAsync(TimeSpan startMedian, CancellationToken cancellationToken)
    {
        var ports = FreePort.Take(5);
        var (adminPort, routePorts, egressPort, metadataPort) = (ports[0], ports[1..3], ports[3], ports[4]);
        var socket = Path.Combine(_directory, "sidecar.sock");
        var sidecar = StartSidecar("sidecar.sock", adminPort, routePorts, egressPort, metadataPort: metadataPort);
        await Readiness.WaitForOkAsync(sidecar, new IPEndPoint(IPAddress.Loopback, adminPort), "/readyz", StartTimeout, cancellationToken);
        await Task.Delay(IdleSettle, cancellationToken);
        var idle = ProcessStats.ResidentBytes(sidecar.Id);
        var tokenApi = await LoadTokenApiAsync(
            sidecar.Id, new UnixDomainSocketEndPoint(socket), Http1Connection.Get("/v1/token?audience=" + Audiences[0]), cancellationToken);
        var afterTokens = ProcessStats.ResidentBytes(sidecar.Id);

        // The same token, as Google's libraries ask the metadata endpoint for it (format=full: the configured form).
        log.WriteLine("(c) sidecar: identity through the metadata endpoint");
        var identity = await LoadTokenApiAsync(
            sidecar.Id,
            new IPEndPoint(IPAddress.Loopback, metadataPort),
            Http1Connection.Get($"/computeMetadata/v1/instance/service-accounts/default/identity?audience={Uri.EscapeDataString(Audiences[0])}&format=full", "Metadata-Flavor: Google"),
            cancellationToken);
        var token = await RouteTokenAsync(sidecar, socket, cancellationToken);
        await StopAsync(sidecar);
        return (new ServerRun(BenchPrograms.BuildOf(programs.Injector), idle, afterTokens, startMedian, tokenApi, identity), token);
    }

    /// <summary>
    /// A fresh sidecar of <paramref name="variant"/>: its idle RSS, the RPC load through its listener, its RSS after.
    /// <paramref name="attach"/>, when given, runs beside each measured load (a profiler attached to the sidecar).
    /// </summary>
    private async Task<(IReadOnlyList<ProxyRun> Runs, SidecarMemoryRun Memory)> MeasureSidecarProxyAsync(
        SidecarVariant variant, AttachCommand? attach, CancellationToken cancellationToken)
    {
        var ports = FreePort.Take(4);
        var (adminPort, routePorts, egressPort) = (ports[0], ports[1..3], ports[3]);
        var sidecar = StartSidecar($"variant-{ports[0]}.sock", adminPort, routePorts, egressPort, variant);
        await Readiness.WaitForOkAsync(sidecar, new IPEndPoint(IPAddress.Loopback, adminPort), "/readyz", StartTimeout, cancellationToken);
        await Task.Delay(IdleSettle, cancellationToken);
        var idle = ProcessStats.ResidentBytes(sidecar.Id);
        var target = variant.Listener switch
        {
            SidecarListener.Route => new EchoTarget(new Uri($"http://127.0.0.1:{routePorts[0]}")),
            // The channel names the service (its :authority picks the upstream and the audience) and dials the port.
            SidecarListener.Egress => new EchoTarget(new Uri($"http://{ServiceHost}"), new IPEndPoint(IPAddress.Loopback, egressPort)),
            _ => throw new ArgumentOutOfRangeException(nameof(variant), variant.Listener, "no such listener"),
        };
        var runs = await LoadEchoAsync(variant.Name, target, sidecar.Id, attach, cancellationToken);
        var after = ProcessStats.ResidentBytes(sidecar.Id);
        await StopAsync(sidecar);
        return (runs, new SidecarMemoryRun(variant.Name, idle, after));
    }

    /// <summary>The route's own token, for the variants that add it themselves: the same header, so the same bytes upstream.</summary>
    private static async Task<string> RouteTokenAsync(ChildProcess sidecar, string socket, CancellationToken cancellationToken)
    {
        using var connection = await Http1Connection.OpenAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
        var (status, body) = await connection.SendAsync(Http1Connection.Get("/v1/token?audience=" + ServiceUrl), cancellationToken);
        if (status != 200)
        {
            throw new ChildProcessException($"the sidecar answered {status} to a token request for {ServiceUrl}", sidecar);
        }

        return Encoding.ASCII.GetString(body.Span);
    }

    private Task<IReadOnlyList<ProxyRun>> MeasureDirectAsync(string token, CancellationToken cancellationToken)
    {
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(_caFile));
        var target = new EchoTarget(new Uri($"{ServiceUrl}:{_upstreamPort}"), new IPEndPoint(IPAddress.Loopback, _upstreamPort),
            X509CertificateLoader.LoadCertificate(ca.RawData), token);
        return LoadEchoAsync("direct (TLS, client adds the token)", target, proxyProcessId: null, attach: null, cancellationToken);
    }

    private async Task<IReadOnlyList<ProxyRun>> MeasureReferenceProxiesAsync(string token, CancellationToken cancellationToken)
    {
        var configs = new ProxyConfigs(_directory, ServiceHost, _upstreamPort, _caFile, token);
        var nginx = await MeasureReferenceProxyAsync("nginx", "nginx",
            port => ["-p", _directory, "-e", Path.Combine(_directory, "nginx-error.log"), "-c", configs.WriteNginx(port), "-g", "daemon off;"], cancellationToken);
        var haproxy = await MeasureReferenceProxyAsync("haproxy", "haproxy", port => ["-db", "-f", configs.WriteHaproxy(port)], cancellationToken);
        return [.. nginx, .. haproxy];
    }

    private async Task<IReadOnlyList<ProxyRun>> MeasureReferenceProxyAsync(
        string variant, string program, Func<int, string[]> arguments, CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var proxy = Start(variant, "taskset", ["-c", MeasuredCore, program, .. arguments(port)]);
        await proxy.WaitForPortAsync(port, StartTimeout, cancellationToken);
        var runs = await LoadEchoAsync(variant, new EchoTarget(new Uri($"http://127.0.0.1:{port}")), proxy.Id, attach: null, cancellationToken);
        await StopAsync(proxy);
        return runs;
    }

    private async Task<TokenApiRun> LoadTokenApiAsync(int serverId, EndPoint endpoint, byte[] request, CancellationToken cancellationToken)
    {
        await RunAsync(settings.TokenConcurrency, settings.TokenWarmup);
        var (one, cpuOne) = await MeasureCpuAsync(serverId, () => RunAsync(1, settings.TokenRequestsOne));
        var (many, cpuMany) = await MeasureCpuAsync(serverId, () => RunAsync(settings.TokenConcurrency, settings.TokenRequestsMany));
        return new TokenApiRun(one, many, cpuOne / one.Requests, cpuMany / many.Requests);

        async Task<LoadResult> RunAsync(int concurrency, int requests)
        {
            var connections = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Http1Connection.OpenAsync(endpoint, cancellationToken)));
            try
            {
                var workers = connections.Select(connection => (ClosedLoop.SendOne)(async token =>
                {
                    var (status, _) = await connection.SendAsync(request, token);
                    if (status != 200)
                    {
                        throw new InvalidOperationException($"{endpoint} answered {status} to a token request");
                    }
                })).ToList();
                return await ClosedLoop.RunAsync(workers, requests, cancellationToken);
            }
            finally
            {
                foreach (var connection in connections)
                {
                    connection.Dispose();
                }
            }
        }
    }

    private async Task<IReadOnlyList<ProxyRun>> LoadEchoAsync(
        string variant, EchoTarget target, int? proxyProcessId, AttachCommand? attach, CancellationToken cancellationToken)
    {
        log.WriteLine($"    {variant}");
        await RunAsync(settings.RpcConnections, settings.RpcConcurrency, settings.RpcWarmup);
        var runs = new List<ProxyRun>();
        foreach (var (connections, concurrency, rpcs) in new[] { (1, 1, settings.RpcsOne), (settings.RpcConnections, settings.RpcConcurrency, settings.RpcsMany) })
        {
            using var attached = proxyProcessId is { } attachTo && attach is not null
                ? await attach.StartAsync(attachTo, $"{variant}-{concurrency}", cancellationToken)
                : null;
            var before = proxyProcessId is { } id ? ProcessStats.TreeSample(id) : default;
            var result = await RunAsync(connections, concurrency, rpcs);
            ProcessTreeSample? used = proxyProcessId is { } pid ? ProcessStats.TreeSample(pid) - before : null;
            runs.Add(new ProxyRun(variant, concurrency, result, used is { } u ? ProxyCost.PerRpc(u, result.Requests) : null));
            await (attached?.StopAsync() ?? Task.CompletedTask);
        }

        return runs;

        async Task<LoadResult> RunAsync(int connections, int concurrency, int rpcs)
        {
            var (workers, channels) = target.Open(connections, concurrency);
            using (channels)
            {
                return await ClosedLoop.RunAsync(workers, rpcs, cancellationToken);
            }
        }
    }

    private async Task<IReadOnlyList<RefreshRun>> MeasureRefreshAsync(CancellationToken cancellationToken)
    {
        var adminPort = FreePort.Next();
        var metadata = await StartMetadataEmulatorAsync(TimeSpan.FromSeconds(settings.RefreshTokenLifetimeSeconds), cancellationToken);
        var socket = Path.Combine(_directory, "refresh.sock");
        var sidecar = Start("injector sidecar (refresh)", "taskset",
        [
            "-c", MeasuredCore, programs.Injector, "sidecar", "--audience", Audiences[0], "--audience", Audiences[1],
            "--socket", socket, "--admin-address", $"127.0.0.1:{adminPort}", "--drain-timeout", "1s",
        ],
        new() { ["GCE_METADATA_HOST"] = metadata.HostAndPort });
        await Readiness.WaitForOkAsync(sidecar, new IPEndPoint(IPAddress.Loopback, adminPort), "/readyz", StartTimeout, cancellationToken);

        // Two configured audiences (refreshed ahead by the sidecar) and one dynamic one (first asked for by 1000 callers at once).
        (string Audience, string Kind)[] audiences = [(Audiences[0], "configured"), (Audiences[1], "configured"), (Audiences[2], "dynamic")];
        var tokens = audiences.Select(_ => new HashSet<string>(StringComparer.Ordinal)).ToArray();
        var requests = new long[audiences.Length];
        var failures = new long[audiences.Length];
        var endpoint = new UnixDomainSocketEndPoint(socket);
        var connections = await Task.WhenAll(Enumerable.Range(0, settings.RefreshCallers).Select(_ => Http1Connection.OpenAsync(endpoint, cancellationToken)));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var start = new SemaphoreSlim(0);
        var callers = connections.Select((connection, i) => Task.Run(async () =>
        {
            var which = i % audiences.Length;
            var request = Http1Connection.Get("/v1/token?audience=" + audiences[which].Audience);
            await start.WaitAsync(cancellationToken);
            while (!stop.IsCancellationRequested)
            {
                var (status, body) = await connection.SendAsync(request, cancellationToken);
                Interlocked.Increment(ref requests[which]);
                if (status != 200)
                {
                    Interlocked.Increment(ref failures[which]);
                    continue;
                }

                var token = Encoding.ASCII.GetString(body.Span);
                lock (tokens[which])
                {
                    tokens[which].Add(token);
                }
            }
        }, cancellationToken)).ToList();
        start.Release(callers.Count);
        stop.CancelAfter(settings.RefreshDuration);
        await Task.WhenAll(callers);
        var fetches = await ReadIdentityRequestsAsync(metadata.Address, cancellationToken);
        foreach (var connection in connections)
        {
            connection.Dispose();
        }

        await StopAsync(sidecar);
        return [.. audiences.Select((audience, i) => new RefreshRun(
            audience.Audience, audience.Kind, fetches.GetValueOrDefault(audience.Audience), tokens[i].Count, requests[i], failures[i]))];
    }

    private static async Task<Dictionary<string, int>> ReadIdentityRequestsAsync(Uri metadata, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        await using var body = await http.GetStreamAsync(new Uri(metadata, "emulator/stats"), cancellationToken);
        using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        return json.RootElement.GetProperty("identityRequests").EnumerateObject().ToDictionary(entry => entry.Name, entry => entry.Value.GetInt32());
    }

    private static async Task<(LoadResult Result, TimeSpan Cpu)> MeasureCpuAsync(int processId, Func<Task<LoadResult>> load)
    {
        var before = ProcessStats.TreeCpuTime(processId);
        var result = await load();
        return (result, ProcessStats.TreeCpuTime(processId) - before);
    }

    private ChildProcess Start(string name, string program, string[] args, Dictionary<string, string>? environment = null) =>
        Track(ChildProcess.Start(program, args, environment, name));

    private ChildProcess Track(ChildProcess child)
    {
        _children.Add(child);
        return child;
    }

    private async Task StopAsync(ChildProcess child)
    {
        await child.StopAsync(StopGrace);
        child.Dispose();
        _children.Remove(child);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
