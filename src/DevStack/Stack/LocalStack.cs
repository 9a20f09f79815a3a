using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using TokenInjector.DevStack.Certificates;
using TokenInjector.DevStack.Files;
using TokenInjector.DevStack.Network;
using TokenInjector.DevStack.Processes;
using TokenInjector.Emulators.CloudRun;
using TokenInjector.Emulators.Metadata;
using TokenInjector.SampleWorkload.Server;

namespace TokenInjector.DevStack.Stack;

/// <summary>
/// Everything a sidecar's route talks to, on loopback: the GKE metadata emulator, the sample echo service (h2c), and
/// the Cloud Run emulator in front of it with a certificate for <see cref="StackOptions.ServiceHost"/> from a
/// throwaway CA, which the work directory holds as <see cref="CaFile"/>. Hosted in-process (the tests: one clock,
/// the emulators' objects at hand) or as child processes (the demo, the NativeAOT smoke test). Sidecars join it as
/// processes; disposing it stops everything, last started first, and removes the work directory.
/// </summary>
internal sealed partial class LocalStack : IAsyncDisposable
{
    /// <summary>How long a part of the stack, or a sidecar that joins it, may take to be ready.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly List<Func<ValueTask>> _stops = [];
    private readonly List<ChildProcess> _processes = [];
    private MetadataEmulator? _metadata;
    private CloudRunEmulator? _cloudRun;

    private LocalStack(StackOptions options)
    {
        Options = options;
        Directory = new TempDirectory(options.DirectoryPrefix);
        Authority = DevCertificateAuthority.Create();
        CaFile = Authority.WriteCaPem(Directory.Path);
    }

    public StackOptions Options { get; }

    /// <summary>The work directory: the CA, the service's certificate files, sockets.</summary>
    public TempDirectory Directory { get; }

    public DevCertificateAuthority Authority { get; }

    /// <summary>The CA as a PEM file, for <c>--upstream-ca-file</c>.</summary>
    public string CaFile { get; }

    /// <summary>"127.0.0.1:41234": the metadata emulator, as GCE_METADATA_HOST names it.</summary>
    public string MetadataHostAndPort { get; private set; } = string.Empty;

    public Uri MetadataAddress => new($"http://{MetadataHostAndPort}/");

    /// <summary>The JWKS that verifies the metadata emulator's tokens.</summary>
    public Uri JwksUri { get; private set; } = null!;

    /// <summary>The container the Cloud Run emulator forwards to (h2c).</summary>
    public Uri Upstream { get; private set; } = null!;

    /// <summary>The Cloud Run emulator's TLS port on 127.0.0.1.</summary>
    public int CloudRunPort { get; private set; }

    /// <summary>The in-process metadata emulator, to switch faults on and read counters.</summary>
    public MetadataEmulator Metadata => _metadata ?? throw HostedAsProcesses();

    /// <summary>The in-process Cloud Run emulator, to read what it accepted and rejected.</summary>
    public CloudRunEmulator CloudRun => _cloudRun ?? throw HostedAsProcesses();

    /// <summary>The child processes of the stack (emulators, service, sidecars), to show their output when something fails.</summary>
    public IReadOnlyList<ChildProcess> Processes => _processes;

    /// <summary>The stack in this process, every part on <see cref="InProcessHosting.Time"/>.</summary>
    public static async Task<LocalStack> StartInProcessAsync(StackOptions options, InProcessHosting? hosting = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        hosting ??= new InProcessHosting();
        var stack = new LocalStack(options);
        try
        {
            var metadataOptions = new MetadataEmulatorOptions
            {
                Time = hosting.Time,
                TokenLifetime = options.TokenLifetime,
                ServiceAccountEmail = options.ServiceAccount,
            };
            hosting.Metadata?.Invoke(metadataOptions);
            stack._metadata = stack.Own(await MetadataEmulator.StartAsync(metadataOptions));
            stack.MetadataHostAndPort = stack._metadata.HostAndPort;
            stack.JwksUri = stack._metadata.JwksUri;

            if (hosting.Upstream is { } upstream)
            {
                stack.Upstream = upstream;
            }
            else
            {
                var echo = stack.Own(EchoServer.Build(new EchoServerOptions(new IPEndPoint(IPAddress.Loopback, 0), LogLevel.Warning)));
                await echo.StartAsync();
                stack.Upstream = EchoServer.GetBoundUri(echo);
            }

            var cloudRunOptions = new CloudRunEmulatorOptions
            {
                ServiceUrl = options.ServiceUrl,
                Upstream = stack.Upstream,
                Certificate = stack.Authority.IssueServerCertificate(options.ServiceHost),
                JwksUri = stack.JwksUri,
                Time = hosting.Time,
            };
            foreach (var invoker in options.Invokers)
            {
                cloudRunOptions.Invokers.Add(invoker);
            }

            hosting.CloudRun?.Invoke(cloudRunOptions);
            stack._cloudRun = stack.Own(await CloudRunEmulator.StartAsync(cloudRunOptions));
            stack.CloudRunPort = stack._cloudRun.Port;
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The stack as child processes of <paramref name="programs"/>, each part its own process as in a pod. A part that
    /// exits or is not ready within a minute fails the start with a <see cref="ChildProcessException"/> that carries it.
    /// </summary>
    public static async Task<LocalStack> StartProcessesAsync(StackOptions options, DevPrograms programs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(programs);
        var stack = new LocalStack(options);
        try
        {
            var metadata = stack.Track(MetadataEmulatorProcess.Launch(programs.Emulators, options.TokenLifetime, options.ServiceAccount));
            // Cloud Run's contract is a fixed $PORT: the service cannot listen on port 0 and say which it got.
            var servicePort = FreePort.Next();
            var service = stack.Track(ChildProcess.Start(programs.SampleWorkload, ["server"], new Dictionary<string, string> { ["PORT"] = Invariant(servicePort) }, "sample service"));
            using var certificate = stack.Authority.IssueServerCertificate(options.ServiceHost);
            var (certificateFile, keyFile) = DevCertificateAuthority.WritePem(certificate, stack.Directory.Path, "service");

            var metadataProcess = await MetadataEmulatorProcess.WhenListeningAsync(metadata, StartTimeout, cancellationToken);
            stack.MetadataHostAndPort = metadataProcess.HostAndPort;
            stack.JwksUri = metadataProcess.JwksUri;
            await ReadyAsync(service, async () =>
            {
                await service.WaitForPortAsync(servicePort, StartTimeout, cancellationToken);
                return servicePort;
            });
            stack.Upstream = new Uri($"http://127.0.0.1:{Invariant(servicePort)}");

            var cloudRun = stack.Track(ChildProcess.Start(programs.Emulators,
            [
                "cloud-run", "--listen", "127.0.0.1:0", "--service-url", options.ServiceUrl, "--upstream", stack.Upstream.AbsoluteUri,
                "--cert", certificateFile, "--key", keyFile, "--jwks-url", stack.JwksUri.AbsoluteUri,
                .. options.Invokers.SelectMany(invoker => new[] { "--invoker", invoker }),
            ],
            name: "cloud-run emulator"));
            // "cloud-run emulator listening on https://127.0.0.1:P for https://HOST"
            var listening = CloudRunBanner().Match(await ReadyAsync(cloudRun, () => cloudRun.WaitForLineAsync(CloudRunBanner().IsMatch, StartTimeout, cancellationToken)));
            stack.CloudRunPort = int.Parse(listening.Groups["port"].Value, CultureInfo.InvariantCulture);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The sidecar arguments for one route from 127.0.0.1:<paramref name="routePort"/> to the Cloud Run emulator,
    /// trusting the stack's CA. <paramref name="port"/> puts something else on loopback in its place (a relay, a
    /// closed port); <paramref name="host"/> names the upstream otherwise than the emulator's certificate does.
    /// </summary>
    public IReadOnlyList<string> RouteArgs(int routePort, string? audience = null, int? port = null, string? host = null) =>
        RouteArgs([routePort], audience, port, host);

    /// <summary>As the other overload, with one route from each of <paramref name="routePorts"/> to the same upstream.</summary>
    public IReadOnlyList<string> RouteArgs(IEnumerable<int> routePorts, string? audience = null, int? port = null, string? host = null)
    {
        var upstreamHost = host ?? Options.ServiceHost;
        var upstreamPort = Invariant(port ?? CloudRunPort);
        var suffix = audience is null ? string.Empty : "=" + audience;
        return
        [
            .. routePorts.SelectMany(routePort => new[] { "--route", $"{Invariant(routePort)}=https://{upstreamHost}:{upstreamPort}{suffix}" }),
            "--resolve", $"{upstreamHost}:{upstreamPort}:127.0.0.1",
            "--upstream-ca-file", CaFile,
        ];
    }

    /// <summary>
    /// A sidecar of this stack for <see cref="SidecarProcess"/> to run: <paramref name="injector"/> (injector.dll or
    /// a published executable) with <paramref name="args"/>, its socket <paramref name="socketName"/> in the work
    /// directory, its tokens from the stack's metadata emulator.
    /// </summary>
    public SidecarLaunch Sidecar(string injector, IReadOnlyList<string> args, string socketName = "sidecar.sock") =>
        new(injector, args) { SocketPath = Directory.File(socketName), MetadataHost = MetadataHostAndPort };

    /// <summary>Something that goes with the stack (an in-process sidecar, a relay): disposed before the parts started earlier.</summary>
    public T Own<T>(T part)
        where T : IAsyncDisposable
    {
        _stops.Add(part.DisposeAsync);
        return part;
    }

    /// <summary>A child process that goes with the stack: SIGTERM, then SIGKILL after a grace, before the parts started earlier.</summary>
    public ChildProcess Track(ChildProcess child)
    {
        ArgumentNullException.ThrowIfNull(child);
        _processes.Add(child);
        _stops.Add(async () =>
        {
            await child.StopAsync(StopGrace);
            child.Dispose();
        });
        return child;
    }

    /// <summary>A sidecar that goes with the stack: stopped as <see cref="Track(ChildProcess)"/> stops a process, then its clients disposed.</summary>
    public SidecarProcess Track(SidecarProcess sidecar)
    {
        ArgumentNullException.ThrowIfNull(sidecar);
        _stops.Add(() =>
        {
            sidecar.Dispose();
            return ValueTask.CompletedTask;
        });
        Track(sidecar.Process);
        return sidecar;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _stops.Count - 1; i >= 0; i--)
        {
            await _stops[i]();
        }

        _stops.Clear();
        Authority.Dispose();
        Directory.Dispose();
    }

    /// <summary>A part's start, with a timeout said as which part was not ready (the exception carries it).</summary>
    private static async Task<T> ReadyAsync<T>(ChildProcess child, Func<Task<T>> ready)
    {
        try
        {
            return await ready();
        }
        catch (TimeoutException ex)
        {
            throw new ChildProcessException($"{child.Name} was not ready within {StartTimeout.TotalSeconds:0} s ({ex.Message})", child);
        }
    }

    private static InvalidOperationException HostedAsProcesses() =>
        new("the emulators run as child processes: use MetadataAddress, JwksUri and CloudRunPort, or host the stack in-process");

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^cloud-run emulator listening on https://\S+:(?<port>\d+) for ")]
    private static partial Regex CloudRunBanner();
}
