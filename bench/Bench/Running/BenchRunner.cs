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
/// sidecar (and the bare Kestrel baseline, nginx, haproxy), each pinned as <see cref="CoreLayout"/> says. Every
/// comparison is measured in rounds, the sidecar and its baselines one after the other in each, so a ratio is taken
/// between figures of one round. Every process is stopped and the work directory removed at the end, whatever happened.
/// </summary>
internal sealed class BenchRunner(BenchPrograms programs, BenchSettings settings, TextWriter log)
{
    public const string ServiceHost = "echo-bench-abc123-uc.a.run.app";
    private const string ServiceUrl = "https://" + ServiceHost;
    private const string CustomAudience = "https://custom-audience.bench.example";

    /// <summary>The variant name of the calls with no proxy, the baseline of every added latency.</summary>
    public const string DirectVariant = "direct (TLS, client adds the token)";

    private static readonly string[] Audiences =
        ["https://billing-abc123-uc.a.run.app", "https://inventory-abc123-uc.a.run.app", "https://ledger-abc123-uc.a.run.app"];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    /// <summary>How long a process is left after it turned ready before its idle RSS is read.</summary>
    public static readonly TimeSpan IdleSettle = TimeSpan.FromSeconds(3);

    private readonly List<ChildProcess> _children = [];
    private string _directory = "";
    private ImageUser _imageUser = new("");
    private string _caFile = "";
    private string _certificateFile = "";
    private string _keyFile = "";
    private string _metadataHostAndPort = "";
    private int _upstreamPort;
    private int? _directUpstreamPort;
    private int _round;

    public CoreLayout Cores { get; } = CoreLayout.For(MachineFacts.CoreCount());

    public Task<BenchResults> RunAsync(MachineFacts machine, CancellationToken cancellationToken) => InWorkDirectoryAsync(async () =>
    {
        var clock = Stopwatch.StartNew();
        var rounds = new List<BenchRound>();
        string? token = null;
        for (_round = 1; _round <= settings.Rounds; _round++)
        {
            log.WriteLine($"round {_round} of {settings.Rounds}");
            log.WriteLine("(b) start-up, the sidecar's and bare Kestrel's starts taking turns: sidecar to /readyz 200, bare Kestrel to its first answer");
            var (sidecarStart, bareStart) = await MedianStartsAsync(cancellationToken);

            log.WriteLine("(a, c) sidecar: idle memory, token API");
            var (sidecar, routeToken) = await MeasureSidecarAsync(sidecarStart, cancellationToken);
            token ??= routeToken;

            log.WriteLine("(a, c) bare Kestrel: idle memory, token-sized answers over its Unix socket");
            var bare = await MeasureBareAsync(bareStart, cancellationToken);

            log.WriteLine("(d) the same RPCs through each sidecar variant, through haproxy, through nginx and direct to the upstream");
            var proxy = new List<ProxyRun>();
            var quiet = new List<QuietSidecar>();
            foreach (var variant in SidecarVariant.Measured)
            {
                var (runs, idling) = await MeasureSidecarProxyAsync(variant, attach: null, keepQuiet: true, cancellationToken);
                proxy.AddRange(runs);
                quiet.Add(idling!);
            }

            proxy.AddRange(await MeasureReferenceProxiesAsync(token, cancellationToken));
            proxy.AddRange(await MeasureDirectAsync(token, cancellationToken));

            log.WriteLine($"(a) each variant's sidecar after {settings.QuietPeriod.TotalSeconds:0} s without calls (its pod's probes only)");
            var memory = new List<SidecarMemoryRun>();
            foreach (var sidecarAtRest in quiet)
            {
                memory.Add(await AfterQuietAsync(sidecarAtRest, cancellationToken));
            }

            rounds.Add(new BenchRound(_round, sidecar, bare, memory, proxy));
        }

        log.WriteLine($"(e) refresh: {settings.RefreshCallers} socket callers for {settings.RefreshDuration.TotalSeconds:0} s, tokens living {settings.RefreshTokenLifetimeSeconds} s");
        var refresh = await MeasureRefreshAsync(cancellationToken);

        return new BenchResults(machine, settings, Cores, rounds, refresh, clock.Elapsed);
    }, cancellationToken);

    /// <summary>
    /// The proxy's cost alone (<c>bench cost</c>): in each round each sidecar variant, then haproxy as the baseline, at 1
    /// and at many streams, with <paramref name="attach"/> (a profiler) beside each sidecar load when given.
    /// </summary>
    public Task<IReadOnlyList<IReadOnlyList<ProxyRun>>> RunCostAsync(
        IReadOnlyList<SidecarVariant> variants, AttachCommand? attach, CancellationToken cancellationToken) => InWorkDirectoryAsync(async () =>
    {
        var ports = FreePort.Take(4);
        var sidecar = StartSidecar("token.sock", ports[0], ports[1..3], ports[3]);
        await Readiness.WaitForOkAsync(sidecar, new IPEndPoint(IPAddress.Loopback, ports[0]), "/readyz", StartTimeout, cancellationToken);
        var token = await RouteTokenAsync(sidecar, Path.Combine(_directory, "token.sock"), cancellationToken);
        await StopAsync(sidecar);

        var configs = new ProxyConfigs(_directory, ServiceHost, _upstreamPort, _caFile, token);
        var rounds = new List<IReadOnlyList<ProxyRun>>();
        for (_round = 1; _round <= settings.Rounds; _round++)
        {
            log.WriteLine($"round {_round} of {settings.Rounds}");
            var proxy = new List<ProxyRun>();
            foreach (var variant in variants)
            {
                var (runs, _) = await MeasureSidecarProxyAsync(variant, attach, keepQuiet: false, cancellationToken);
                proxy.AddRange(runs);
            }

            proxy.AddRange(await MeasureReferenceProxyAsync("haproxy", "haproxy", port => ["-db", "-f", configs.WriteHaproxy(port)], cancellationToken));
            rounds.Add(proxy);
        }

        return (IReadOnlyList<IReadOnlyList<ProxyRun>>)rounds;
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
        _imageUser = new ImageUser(_directory);
        try
        {
            _imageUser.TakeDirectory();
            _caFile = authority.WriteCaPem(_directory);
            using var certificate = authority.IssueServerCertificate(ServiceHost);
            (_certificateFile, _keyFile) = DevCertificateAuthority.WritePem(certificate, _directory, "server");
            _metadataHostAndPort = (await StartMetadataEmulatorAsync(TimeSpan.FromHours(1), cancellationToken)).HostAndPort;
            _upstreamPort = await StartUpstreamAsync("upstream", Cores.Upstream, cancellationToken);
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

    /// <summary>The TLS echo upstream on <paramref name="core"/>, run by the dotnet that runs this process; its port.</summary>
    private async Task<int> StartUpstreamAsync(string name, string core, CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var upstream = Start(name, "taskset",
            ["-c", core, Environment.ProcessPath ?? "dotnet", Path.Combine(AppContext.BaseDirectory, "bench.dll"), "upstream", Invariant(port), _certificateFile, _keyFile]);
        await upstream.WaitForLineAsync(line => line == UpstreamCommand.ListeningLine, StartTimeout, cancellationToken);
        return port;
    }

    private async Task<MetadataEmulatorProcess> StartMetadataEmulatorAsync(TimeSpan tokenLifetime, CancellationToken cancellationToken)
    {
        var metadata = await MetadataEmulatorProcess.StartAsync(programs.Emulators, tokenLifetime, serviceAccount: null, StartTimeout, cancellationToken);
        Track(metadata.Process);
        return metadata;
    }

    /// <summary>
    /// The median start-up times of the sidecar and of bare Kestrel, their starts taking turns so that both meet the
    /// same moments of the machine.
    /// </summary>
    private async Task<(TimeSpan Sidecar, TimeSpan Bare)> MedianStartsAsync(CancellationToken cancellationToken)
    {
        var (sidecar, bare) = (new List<TimeSpan>(), new List<TimeSpan>());
        // One start more than measured: the first pays for a cold page cache.
        for (var i = 0; i <= settings.StartRepeats; i++)
        {
            var sidecarTime = await TimeStartAsync(SidecarStart(i), cancellationToken);
            var bareTime = await TimeStartAsync(BareStart(i), cancellationToken);
            if (i > 0)
            {
                sidecar.Add(sidecarTime);
                bare.Add(bareTime);
            }
        }

        return (Median(sidecar), Median(bare));

        static TimeSpan Median(List<TimeSpan> times) => TimeSpan.FromTicks((long)Spread.Of(times.Select(time => (double)time.Ticks)).Median);
    }

    private async Task<TimeSpan> TimeStartAsync(Func<(ChildProcess Child, EndPoint Endpoint, string Path)> start, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (child, endpoint, path) = start();
        await Readiness.WaitForOkAsync(child, endpoint, path, StartTimeout, cancellationToken);
        var elapsed = clock.Elapsed;
        await StopAsync(child);
        return elapsed;
    }

    private Func<(ChildProcess, EndPoint, string)> SidecarStart(int attempt) => () =>
    {
        var ports = FreePort.Take(4);
        var child = StartSidecar($"start-{_round}-{attempt}.sock", ports[0], ports[1..3], ports[3]);
        return (child, new IPEndPoint(IPAddress.Loopback, ports[0]), "/readyz");
    };

    private Func<(ChildProcess, EndPoint, string)> BareStart(int attempt) => () =>
    {
        var port = FreePort.Next();
        var child = StartBare($"bare-start-{_round}-{attempt}.sock", port);
        return (child, new IPEndPoint(IPAddress.Loopback, port), "/");
    };

    // The egress port reaches the same upstream as the routes: the service's host on 443, connected to the upstream's port.
    private ChildProcess StartSidecar(string socketName, int adminPort, int[] routePorts, int egressPort, SidecarVariant? variant = null, int? metadataPort = null)
    {
        var environment = new Dictionary<string, string>(variant?.Environment ?? new Dictionary<string, string>())
        {
            ["GCE_METADATA_HOST"] = _metadataHostAndPort,
        };
        return Start(variant?.Name ?? "injector sidecar", "taskset",
        [
            "-c", variant is { Pinned: false } ? Cores.All : Cores.Measured,
            .. _imageUser.Command(programs.Injector, "injector" + (variant is null ? "" : "-" + string.Concat(variant.Name.Where(char.IsAsciiLetterOrDigit)))),
            "sidecar",
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

    /// <summary>Waits until <paramref name="sidecar"/>'s <c>/readyz</c> answers 200, then gives it its pod's probes, from then until they are disposed.</summary>
    private static async Task<PodProbes> ReadyThenProbedAsync(ChildProcess sidecar, int adminPort, CancellationToken cancellationToken)
    {
        var admin = new IPEndPoint(IPAddress.Loopback, adminPort);
        await Readiness.WaitForOkAsync(sidecar, admin, "/readyz", StartTimeout, cancellationToken);
        return PodProbes.Start(admin);
    }

    private ChildProcess StartBare(string socketName, int port) =>
        Start("bare kestrel", "taskset", ["-c", Cores.Measured, .. _imageUser.Command(programs.BareKestrel, "bare-kestrel"), "--socket", Path.Combine(_directory, socketName), "--port", Invariant(port)]);

    private async Task<ServerRun> MeasureBareAsync(TimeSpan startMedian, CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var bare = StartBare($"bare-{_round}.sock", port);
        await Readiness.WaitForOkAsync(bare, new IPEndPoint(IPAddress.Loopback, port), "/", StartTimeout, cancellationToken);
        await Task.Delay(IdleSettle, cancellationToken);
        var idle = ProcessStats.ResidentBytes(bare.Id);
        var tokenApi = await LoadTokenApiAsync(
            bare.Id, new UnixDomainSocketEndPoint(Path.Combine(_directory, $"bare-{_round}.sock")), Http1Connection.Get("/v1/token?audience=" + Audiences[0]), cancellationToken);
        var after = ProcessStats.ResidentBytes(bare.Id);
        await StopAsync(bare);
        return new ServerRun(BenchPrograms.BuildOf(programs.BareKestrel), idle, after, startMedian, tokenApi);
    }

    private async Task<(ServerRun Run, string Token)> MeasureSidecarAsync(TimeSpan startMedian, CancellationToken cancellationToken)
    {
        var ports = FreePort.Take(5);
        var (adminPort, routePorts, egressPort, metadataPort) = (ports[0], ports[1..3], ports[3], ports[4]);
        var socket = Path.Combine(_directory, $"sidecar-{_round}.sock");
        var sidecar = StartSidecar($"sidecar-{_round}.sock", adminPort, routePorts, egressPort, metadataPort: metadataPort);
        await using var probes = await ReadyThenProbedAsync(sidecar, adminPort, cancellationToken);
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
    /// With <paramref name="keepQuiet"/> the sidecar is left running without calls (its probes go on), for <see cref="AfterQuietAsync"/>;
    /// otherwise it is stopped.
    /// </summary>
    private async Task<(IReadOnlyList<ProxyRun> Runs, QuietSidecar? Idling)> MeasureSidecarProxyAsync(
        SidecarVariant variant, AttachCommand? attach, bool keepQuiet, CancellationToken cancellationToken)
    {
        var ports = FreePort.Take(4);
        var (adminPort, routePorts, egressPort) = (ports[0], ports[1..3], ports[3]);
        var sidecar = StartSidecar($"variant-{ports[0]}.sock", adminPort, routePorts, egressPort, variant);
        var probes = await ReadyThenProbedAsync(sidecar, adminPort, cancellationToken);
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
        var loadEnded = Stopwatch.StartNew();
        var after = ProcessStats.ResidentBytes(sidecar.Id);
        if (keepQuiet)
        {
            return (runs, new QuietSidecar(sidecar, probes, variant.Name, idle, after, loadEnded));
        }

        await probes.DisposeAsync();
        await StopAsync(sidecar);
        return (runs, null);
    }

    /// <summary>
    /// The RSS of a sidecar once <see cref="BenchSettings.QuietPeriod"/> of wall time has passed since its load ended
    /// (the round's other loads ran meanwhile; none reached it), then the sidecar stopped.
    /// </summary>
    private async Task<SidecarMemoryRun> AfterQuietAsync(QuietSidecar quiet, CancellationToken cancellationToken)
    {
        if (settings.QuietPeriod - quiet.SinceLoad.Elapsed is { Ticks: > 0 } remaining)
        {
            await Task.Delay(remaining, cancellationToken);
        }

        if (quiet.Sidecar.HasExited)
        {
            throw new ChildProcessException($"{quiet.Sidecar.Name} exited with code {quiet.Sidecar.ExitCode} while it had no requests", quiet.Sidecar);
        }

        var rested = ProcessStats.ResidentBytes(quiet.Sidecar.Id);
        await quiet.Probes.DisposeAsync();
        await StopAsync(quiet.Sidecar);
        return new SidecarMemoryRun(quiet.Variant, quiet.IdleRssBytes, quiet.RssAfterRpcsBytes, rested);
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

    /// <summary>
    /// The RPCs with no proxy, the client adding the token and doing TLS itself, to an upstream away from the client's
    /// core (<see cref="CoreLayout.DirectUpstream"/>: started once, on first use, and kept warm for the later rounds).
    /// </summary>
    private async Task<IReadOnlyList<ProxyRun>> MeasureDirectAsync(string token, CancellationToken cancellationToken)
    {
        _directUpstreamPort ??= Cores.SeparateDirectUpstream
            ? await StartUpstreamAsync("upstream for the direct calls", Cores.DirectUpstream, cancellationToken)
            : _upstreamPort;
        var port = _directUpstreamPort.Value;
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(_caFile));
        var target = new EchoTarget(new Uri($"{ServiceUrl}:{port}"), new IPEndPoint(IPAddress.Loopback, port),
            X509CertificateLoader.LoadCertificate(ca.RawData), token);
        return await LoadEchoAsync(DirectVariant, target, proxyProcessId: null, attach: null, cancellationToken);
    }

    private async Task<IReadOnlyList<ProxyRun>> MeasureReferenceProxiesAsync(string token, CancellationToken cancellationToken)
    {
        var configs = new ProxyConfigs(_directory, ServiceHost, _upstreamPort, _caFile, token);
        var haproxy = await MeasureReferenceProxyAsync("haproxy", "haproxy", port => ["-db", "-f", configs.WriteHaproxy(port)], cancellationToken);
        var nginx = await MeasureReferenceProxyAsync("nginx", "nginx",
            port => ["-p", _directory, "-e", Path.Combine(_directory, "nginx-error.log"), "-c", configs.WriteNginx(port), "-g", "daemon off;"], cancellationToken);
        return [.. haproxy, .. nginx];
    }

    private async Task<IReadOnlyList<ProxyRun>> MeasureReferenceProxyAsync(
        string variant, string program, Func<int, string[]> arguments, CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var proxy = Start(variant, "taskset", ["-c", Cores.Measured, program, .. arguments(port)]);
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
        log.WriteLine($"    {variant} (round {_round})");
        await RunAsync(settings.RpcConnections, settings.RpcConcurrency, settings.RpcWarmup);
        var runs = new List<ProxyRun>();
        foreach (var (connections, concurrency, rpcs) in new[] { (1, 1, settings.RpcsOne), (settings.RpcConnections, settings.RpcConcurrency, settings.RpcsMany) })
        {
            using var attached = proxyProcessId is { } attachTo && attach is not null
                ? await attach.StartAsync(attachTo, $"{variant}-{concurrency}-round{_round}", cancellationToken)
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
            "-c", Cores.Measured, .. _imageUser.Command(programs.Injector, "injector"), "sidecar", "--audience", Audiences[0], "--audience", Audiences[1],
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

    /// <summary>A sidecar whose proxied load has ended, left running with only its pod's probes until its quiet RSS is read.</summary>
    private sealed record QuietSidecar(ChildProcess Sidecar, PodProbes Probes, string Variant, long IdleRssBytes, long RssAfterRpcsBytes, Stopwatch SinceLoad);
}
