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
/// comparison is measured in rounds, and within a round the sidecar and its baselines run side by side and take their
/// loads in turns (<see cref="InTurnsAsync"/>), so a ratio is taken between figures of one round. Every process is stopped and the work directory removed at the end, whatever happened.
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
    /// <summary>
    /// How long a process is left after it turned ready before its idle RSS is read: past the sidecar's start-up
    /// release (a second after ready) and past the round of pod probes that follows it (10 s after the first), so
    /// that the figure holds what the probes keep using, as a pod's idle sidecar does.
    /// </summary>
    public static readonly TimeSpan IdleSettle = TimeSpan.FromSeconds(12);

    /// <summary>The names of the executables' copies in the work directory (<see cref="ImageUser.Command"/>): the sidecar's, without a variant's name, and bare Kestrel's.</summary>
    private const string SidecarCopy = "injector";
    private const string BareCopy = "bare-kestrel";

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

            log.WriteLine("(a, c) the sidecar and bare Kestrel: idle memory; in turns, the sidecar's token API, bare Kestrel's token-sized answers over its Unix socket, the sidecar's metadata endpoint");
            var (sidecar, bare, routeToken) = await MeasureTokenServersAsync(sidecarStart, bareStart, cancellationToken);
            token ??= routeToken;

            log.WriteLine("(d) the same RPCs, in turns, through each sidecar variant, through haproxy, through nginx and direct to the upstream");
            var sidecars = await StartProxySidecarsAsync(SidecarVariant.Measured, cancellationToken);
            var configs = new ProxyConfigs(_directory, ServiceHost, _upstreamPort, _caFile, token);
            var haproxy = await StartHaproxyAsync(configs, cancellationToken);
            var nginx = await StartReferenceProxyAsync("nginx", "nginx",
                port => ["-p", _directory, "-e", Path.Combine(_directory, "nginx-error.log"), "-c", configs.WriteNginx(port), "-g", "daemon off;"], cancellationToken);
            var proxy = await LoadEchoInTurnsAsync(
                [.. sidecars.Select(running => running.Load), haproxy.Load, nginx.Load, await DirectLoadAsync(token, cancellationToken)], attach: null, cancellationToken);
            var loadsEnded = Stopwatch.StartNew();
            var afterRpcs = sidecars.Select(running => ProcessStats.ResidentBytes(running.Process.Id)).ToList();
            await Task.WhenAll(StopAsync(haproxy.Process), StopAsync(nginx.Process));

            log.WriteLine($"(a) each variant's sidecar after {settings.QuietPeriod.TotalSeconds:0} s without calls (its pod's probes only)");
            if (settings.QuietPeriod - loadsEnded.Elapsed is { Ticks: > 0 } remaining)
            {
                await Task.Delay(remaining, cancellationToken);
            }

            var memory = new List<SidecarMemoryRun>();
            foreach (var (rested, after) in sidecars.Zip(afterRpcs))
            {
                memory.Add(new SidecarMemoryRun(rested.Load.Name, rested.IdleRssBytes, after, RestedRss(rested.Process)));
                await StopAsync(rested);
            }

            rounds.Add(new BenchRound(_round, sidecar, bare, memory, proxy));
        }

        log.WriteLine($"(e) refresh: {settings.RefreshCallers} socket callers for {settings.RefreshDuration.TotalSeconds:0} s, tokens living {settings.RefreshTokenLifetimeSeconds} s");
        var refresh = await MeasureRefreshAsync(cancellationToken);

        return new BenchResults(machine, settings, Cores, rounds, refresh, clock.Elapsed);
    }, cancellationToken);

    /// <summary>
    /// The proxy's cost alone (<c>bench cost</c>): in each round a fresh sidecar of each variant and haproxy as the
    /// baseline, their loads in turns at 1 and at many streams, with <paramref name="attach"/> (a profiler) beside each
    /// sidecar turn when given.
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
            var sidecars = await StartProxySidecarsAsync(variants, cancellationToken);
            var haproxy = await StartHaproxyAsync(configs, cancellationToken);
            rounds.Add(await LoadEchoInTurnsAsync([.. sidecars.Select(running => running.Load), haproxy.Load], attach, cancellationToken));
            await StopAsync(haproxy.Process);
            foreach (var running in sidecars)
            {
                await StopAsync(running);
            }
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
    /// same moments of the machine, each from an executable just read into the page cache (<see cref="ImageUser.ReadThrough"/>).
    /// </summary>
    private async Task<(TimeSpan Sidecar, TimeSpan Bare)> MedianStartsAsync(CancellationToken cancellationToken)
    {
        var (sidecar, bare) = (new List<TimeSpan>(), new List<TimeSpan>());
        // One start more than measured: the first makes the executables' copies, and pays for everything done once.
        for (var i = 0; i <= settings.StartRepeats; i++)
        {
            _imageUser.ReadThrough(SidecarCopy);
            var sidecarTime = await TimeStartAsync(SidecarStart(i), cancellationToken);
            _imageUser.ReadThrough(BareCopy);
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
            .. _imageUser.Command(programs.Injector, SidecarCopy + (variant is null ? "" : "-" + string.Concat(variant.Name.Where(char.IsAsciiLetterOrDigit)))),
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
        Start("bare kestrel", "taskset", ["-c", Cores.Measured, .. _imageUser.Command(programs.BareKestrel, BareCopy), "--socket", Path.Combine(_directory, socketName), "--port", Invariant(port)]);

    /// <summary>
    /// A fresh sidecar and a fresh bare Kestrel side by side: their idle RSS, then their token loads in turns
    /// (<see cref="LoadTokenApisAsync"/>), with the sidecar's metadata endpoint as a third, then their RSS after.
    /// </summary>
    private async Task<(ServerRun Sidecar, ServerRun Bare, string Token)> MeasureTokenServersAsync(
        TimeSpan sidecarStartMedian, TimeSpan bareStartMedian, CancellationToken cancellationToken)
    {
        var ports = FreePort.Take(6);
        var (adminPort, routePorts, egressPort, metadataPort, barePort) = (ports[0], ports[1..3], ports[3], ports[4], ports[5]);
        var socket = Path.Combine(_directory, $"sidecar-{_round}.sock");
        var bareSocket = Path.Combine(_directory, $"bare-{_round}.sock");
        var sidecar = StartSidecar(Path.GetFileName(socket), adminPort, routePorts, egressPort, metadataPort: metadataPort);
        var bare = StartBare(Path.GetFileName(bareSocket), barePort);
        await using var probes = await ReadyThenProbedAsync(sidecar, adminPort, cancellationToken);
        await Readiness.WaitForOkAsync(bare, new IPEndPoint(IPAddress.Loopback, barePort), "/", StartTimeout, cancellationToken);
        await Task.Delay(IdleSettle, cancellationToken);
        var (idle, bareIdle) = (ProcessStats.ResidentBytes(sidecar.Id), ProcessStats.ResidentBytes(bare.Id));

        var tokenRequest = Http1Connection.Get("/v1/token?audience=" + Audiences[0]);
        // The same token, as Google's libraries ask the metadata endpoint for it (format=full: the configured form).
        var identityRequest = Http1Connection.Get(
            $"/computeMetadata/v1/instance/service-accounts/default/identity?audience={Uri.EscapeDataString(Audiences[0])}&format=full", "Metadata-Flavor: Google");
        var loads = await LoadTokenApisAsync(
        [
            new TokenServer(sidecar.Id, new UnixDomainSocketEndPoint(socket), tokenRequest),
            new TokenServer(bare.Id, new UnixDomainSocketEndPoint(bareSocket), tokenRequest),
            new TokenServer(sidecar.Id, new IPEndPoint(IPAddress.Loopback, metadataPort), identityRequest),
        ], cancellationToken);
        var (after, bareAfter) = (ProcessStats.ResidentBytes(sidecar.Id), ProcessStats.ResidentBytes(bare.Id));
        var token = await RouteTokenAsync(sidecar, socket, cancellationToken);
        await Task.WhenAll(StopAsync(sidecar), StopAsync(bare));
        return (
            new ServerRun(BenchPrograms.BuildOf(programs.Injector), idle, after, sidecarStartMedian, loads[0], loads[2]),
            new ServerRun(BenchPrograms.BuildOf(programs.BareKestrel), bareIdle, bareAfter, bareStartMedian, loads[1]),
            token);
    }

    /// <summary>
    /// A fresh sidecar of each variant, side by side, each ready, given its pod's probes, and left
    /// <see cref="IdleSettle"/> before its idle RSS is read; the load of each goes to the listener its variant names.
    /// </summary>
    private async Task<IReadOnlyList<ProxySidecar>> StartProxySidecarsAsync(IReadOnlyList<SidecarVariant> variants, CancellationToken cancellationToken)
    {
        var started = new List<(EchoLoad Load, ChildProcess Process, PodProbes Probes)>();
        foreach (var variant in variants)
        {
            var ports = FreePort.Take(4);
            var (adminPort, routePorts, egressPort) = (ports[0], ports[1..3], ports[3]);
            var sidecar = StartSidecar($"variant-{ports[0]}.sock", adminPort, routePorts, egressPort, variant);
            var target = variant.Listener switch
            {
                SidecarListener.Route => new EchoTarget(new Uri($"http://127.0.0.1:{routePorts[0]}")),
                // The channel names the service (its :authority picks the upstream and the audience) and dials the port.
                SidecarListener.Egress => new EchoTarget(new Uri($"http://{ServiceHost}"), new IPEndPoint(IPAddress.Loopback, egressPort)),
                _ => throw new ArgumentOutOfRangeException(nameof(variants), variant.Listener, "no such listener"),
            };
            started.Add((new EchoLoad(variant.Name, target, sidecar.Id), sidecar, await ReadyThenProbedAsync(sidecar, adminPort, cancellationToken)));
        }

        await Task.Delay(IdleSettle, cancellationToken);
        return [.. started.Select(sidecar => new ProxySidecar(sidecar.Load, sidecar.Process, sidecar.Probes, ProcessStats.ResidentBytes(sidecar.Process.Id)))];
    }

    /// <summary>The RSS of a sidecar that has had no calls for a while; fails when it exited meanwhile.</summary>
    private static long RestedRss(ChildProcess sidecar) => sidecar.HasExited
        ? throw new ChildProcessException($"{sidecar.Name} exited with code {sidecar.ExitCode} while it had no requests", sidecar)
        : ProcessStats.ResidentBytes(sidecar.Id);

    private async Task StopAsync(ProxySidecar sidecar)
    {
        await sidecar.Probes.DisposeAsync();
        await StopAsync(sidecar.Process);
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
    private async Task<EchoLoad> DirectLoadAsync(string token, CancellationToken cancellationToken)
    {
        _directUpstreamPort ??= Cores.SeparateDirectUpstream
            ? await StartUpstreamAsync("upstream for the direct calls", Cores.DirectUpstream, cancellationToken)
            : _upstreamPort;
        var port = _directUpstreamPort.Value;
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(_caFile));
        var target = new EchoTarget(new Uri($"{ServiceUrl}:{port}"), new IPEndPoint(IPAddress.Loopback, port),
            X509CertificateLoader.LoadCertificate(ca.RawData), token);
        return new EchoLoad(DirectVariant, target, ProcessId: null);
    }

    private Task<(ChildProcess Process, EchoLoad Load)> StartHaproxyAsync(ProxyConfigs configs, CancellationToken cancellationToken) =>
        StartReferenceProxyAsync("haproxy", "haproxy", port => ["-db", "-f", configs.WriteHaproxy(port)], cancellationToken);

    private async Task<(ChildProcess Process, EchoLoad Load)> StartReferenceProxyAsync(
        string variant, string program, Func<int, string[]> arguments, CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var proxy = Start(variant, "taskset", ["-c", Cores.Measured, program, .. arguments(port)]);
        await proxy.WaitForPortAsync(port, StartTimeout, cancellationToken);
        return (proxy, new EchoLoad(variant, new EchoTarget(new Uri($"http://127.0.0.1:{port}")), proxy.Id));
    }

    /// <summary>
    /// The token load of each server in <paramref name="servers"/>: its warm-up, then, at 1 connection and then at
    /// many, <see cref="BenchSettings.Turns"/> turns in which each server in turn takes its share of the requests
    /// (the first to go moving on by one every turn). A server's figures are its turns added up, so a slow second of
    /// the machine falls on each of them rather than on one.
    /// </summary>
    private async Task<IReadOnlyList<TokenApiRun>> LoadTokenApisAsync(IReadOnlyList<TokenServer> servers, CancellationToken cancellationToken)
    {
        foreach (var server in servers)
        {
            await RunAsync(server, settings.TokenConcurrency, settings.TokenWarmup);
        }

        var one = await AtAsync(1, settings.TokenRequestsOne);
        var many = await AtAsync(settings.TokenConcurrency, settings.TokenRequestsMany);
        return [.. servers.Select((_, i) => new TokenApiRun(one[i].Result, many[i].Result, one[i].CpuPerRequest, many[i].CpuPerRequest))];

        Task<TurnFigures[]> AtAsync(int concurrency, int requests) => InTurnsAsync(servers.Count, (i, _) =>
            MeasureAsync(servers[i].ProcessId, () => RunAsync(servers[i], concurrency, requests / settings.Turns)));

        async Task<LoadResult> RunAsync(TokenServer server, int concurrency, int requests)
        {
            var connections = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Http1Connection.OpenAsync(server.Endpoint, cancellationToken)));
            try
            {
                var workers = connections.Select(connection => (ClosedLoop.SendOne)(async token =>
                {
                    var (status, _) = await connection.SendAsync(server.Request, token);
                    if (status != 200)
                    {
                        throw new InvalidOperationException($"{server.Endpoint} answered {status} to a token request");
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

    /// <summary>
    /// The same RPCs through each of <paramref name="loads"/>: its warm-up, then, at 1 stream and then at many,
    /// <see cref="BenchSettings.Turns"/> turns in which each in turn takes its share of the RPCs (the first to go moving
    /// on by one every turn). Each one's figures are its turns added up, so a slow second of the machine falls on every
    /// proxy rather than on one; with <paramref name="attach"/>, a profiler runs beside each turn of a process.
    /// </summary>
    private async Task<IReadOnlyList<ProxyRun>> LoadEchoInTurnsAsync(IReadOnlyList<EchoLoad> loads, AttachCommand? attach, CancellationToken cancellationToken)
    {
        foreach (var load in loads)
        {
            log.WriteLine($"    warming up {load.Name} (round {_round})");
            await RunAsync(load, settings.RpcConnections, settings.RpcConcurrency, settings.RpcWarmup);
        }

        var runs = new List<ProxyRun>();
        foreach (var (connections, concurrency, rpcs) in new[] { (1, 1, settings.RpcsOne), (settings.RpcConnections, settings.RpcConcurrency, settings.RpcsMany) })
        {
            log.WriteLine($"    {concurrency} stream(s), {settings.Turns} turns (round {_round})");
            var figures = await InTurnsAsync(loads.Count, async (i, turn) =>
            {
                using var attached = loads[i].ProcessId is { } attachTo && attach is not null
                    ? await attach.StartAsync(attachTo, $"{loads[i].Name}-{concurrency}-round{_round}-turn{turn + 1}", cancellationToken)
                    : null;
                var measured = await MeasureAsync(loads[i].ProcessId, () => RunAsync(loads[i], connections, concurrency, rpcs / settings.Turns));
                await (attached?.StopAsync() ?? Task.CompletedTask);
                return measured;
            });
            runs.AddRange(loads.Select((load, i) =>
                new ProxyRun(load.Name, concurrency, figures[i].Result, load.ProcessId is null ? null : ProxyCost.PerRpc(figures[i].Used, figures[i].Result.Requests))));
        }

        return runs;

        async Task<LoadResult> RunAsync(EchoLoad load, int connections, int concurrency, int rpcs)
        {
            var (workers, channels) = load.Target.Open(connections, concurrency);
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

    /// <summary>
    /// <paramref name="measure"/> of each of <paramref name="count"/> subjects, <see cref="BenchSettings.Turns"/> times
    /// over (it is given the subject and the turn), the first to go moving on by one every turn; each subject's turns
    /// added up. A slow second of the machine so falls on each of the subjects compared rather than on one.
    /// </summary>
    private async Task<TurnFigures[]> InTurnsAsync(int count, Func<int, int, Task<TurnFigures>> measure)
    {
        var sums = new TurnFigures?[count];
        for (var turn = 0; turn < settings.Turns; turn++)
        {
            for (var step = 0; step < count; step++)
            {
                var subject = (turn + step) % count;
                var figures = await measure(subject, turn);
                sums[subject] = sums[subject] is { } sum ? sum.Then(figures) : figures;
            }
        }

        return [.. sums.Select(sum => sum!.Value)];
    }

    /// <summary>A load, and what the process tree of <paramref name="processId"/> (when there is one) spent while it ran.</summary>
    private static async Task<TurnFigures> MeasureAsync(int? processId, Func<Task<LoadResult>> load)
    {
        var before = processId is { } id ? ProcessStats.TreeSample(id) : default;
        var result = await load();
        return new TurnFigures(result, processId is { } pid ? ProcessStats.TreeSample(pid) - before : default);
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

    /// <summary>A server whose token answers <see cref="LoadTokenApisAsync"/> loads: its process (for its CPU), where it listens, the request.</summary>
    private sealed record TokenServer(int ProcessId, EndPoint Endpoint, byte[] Request);

    /// <summary>What a subject's turns measured (<see cref="InTurnsAsync"/>), added up: the load, and what its process spent.</summary>
    private readonly record struct TurnFigures(LoadResult Result, ProcessTreeSample Used)
    {
        public TimeSpan CpuPerRequest => Used.Cpu / Result.Requests;

        public TurnFigures Then(TurnFigures next) => new(Result.Then(next.Result), Used + next.Used);
    }

    /// <summary>Where the RPCs of one proxy (or of the direct calls) go, what the page calls it, and its process (none for the direct calls).</summary>
    private sealed record EchoLoad(string Name, EchoTarget Target, int? ProcessId);

    /// <summary>A sidecar of one variant started for the RPCs: its load, its process, its pod's probes, its idle RSS.</summary>
    private sealed record ProxySidecar(EchoLoad Load, ChildProcess Process, PodProbes Probes, long IdleRssBytes);
}
