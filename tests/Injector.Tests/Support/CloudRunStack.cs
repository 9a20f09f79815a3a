using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using TokenInjector.Emulators.CloudRun;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Hosting;
using TokenInjector.SampleWorkload;
using TokenInjector.SampleWorkload.Server;

namespace TokenInjector.Tests.Support;

/// <summary>
/// Everything a route talks to, in-process on loopback: the GKE metadata emulator (reached through
/// GCE_METADATA_HOST, so only for <see cref="GceMetadataHostSerialGroup"/> tests), the sample echo service on h2c,
/// (or, for header checks, an upstream that echoes the headers it received) and the Cloud Run emulator in front of it with a certificate from a test CA for <see cref="ServiceHost"/>.
/// All share one clock, so tests may run it faster than real time.
/// </summary>
internal sealed class CloudRunStack : IAsyncDisposable
{
    public const string ServiceHost = "echo-e2e-abc123-uc.a.run.app";
    public const string ServiceUrl = "https://" + ServiceHost;

    private readonly List<IAsyncDisposable> _owned = [];
    private GceMetadataHost? _metadataHost;

    private CloudRunStack(TimeProvider time, TempDirectory directory, TestCertificateAuthority authority)
    {
        Time = time;
        Directory = directory;
        Authority = authority;
    }

    public TimeProvider Time { get; }

    public TempDirectory Directory { get; }

    public TestCertificateAuthority Authority { get; }

    public string CaFile { get; private set; } = string.Empty;

    public MetadataEmulator Metadata { get; private set; } = null!;

    public CloudRunEmulator CloudRun { get; private set; } = null!;

    public RunningSidecar? Sidecar { get; private set; }

    public int RoutePort { get; } = FreePort();

    /// <summary>The token socket of a sidecar started by <see cref="StartSidecarProcess"/>.</summary>
    public string SidecarProcessSocket => Directory.File("sidecar.sock");

    public static async Task<CloudRunStack> StartAsync(
        TimeProvider? time = null,
        TimeSpan? tokenLifetime = null,
        Action<MetadataEmulatorOptions>? metadata = null,
        Action<CloudRunEmulatorOptions>? cloudRun = null,
        bool headerEchoUpstream = false)
    {
        time ??= TimeProvider.System;
        var stack = new CloudRunStack(time, new TempDirectory(), TestCertificateAuthority.Create());
        stack.CaFile = stack.Authority.WriteCaPem(stack.Directory.Path);

        var metadataOptions = new MetadataEmulatorOptions { Time = time, TokenLifetime = tokenLifetime ?? TimeSpan.FromHours(1) };
        metadata?.Invoke(metadataOptions);
        stack.Metadata = await MetadataEmulator.StartAsync(metadataOptions).Bounded();
        stack._owned.Add(stack.Metadata);
        stack._metadataHost = new GceMetadataHost(stack.Metadata.HostAndPort);

        Uri upstream;
        if (headerEchoUpstream)
        {
            var headers = await H2cTestUpstream.StartAsync().Bounded();
            stack._owned.Add(headers);
            upstream = headers.Uri;
        }
        else
        {
            var echo = EchoServer.Build(new EchoServerOptions(new IPEndPoint(IPAddress.Loopback, 0), LogLevel.Warning));
            await echo.StartAsync().Bounded();
            stack._owned.Add(echo);
            upstream = EchoServer.GetBoundUri(echo);
        }

        var cloudRunOptions = new CloudRunEmulatorOptions
        {
            ServiceUrl = ServiceUrl,
            Upstream = upstream,
            Certificate = stack.Authority.IssueServerCertificate(ServiceHost),
            JwksUri = stack.Metadata.JwksUri,
            Time = time,
        };
        cloudRun?.Invoke(cloudRunOptions);
        stack.CloudRun = await CloudRunEmulator.StartAsync(cloudRunOptions).Bounded();
        stack._owned.Add(stack.CloudRun);
        return stack;
    }

    /// <summary>
    /// The sidecar arguments for one route to the Cloud Run emulator, trusting the test CA. <paramref name="port"/>
    /// puts something else on loopback in its place (a relay, a closed port); <paramref name="host"/> names the
    /// upstream differently from the emulator's certificate.
    /// </summary>
    public IEnumerable<string> RouteArgs(string? audience = null, int? port = null, string host = ServiceHost)
    {
        var upstreamPort = port ?? CloudRun.Port;
        return
        [
            "--route", $"{RoutePort}=https://{host}:{upstreamPort}" + (audience is null ? string.Empty : "=" + audience),
            "--resolve", $"{host}:{upstreamPort}:127.0.0.1",
            "--upstream-ca-file", CaFile,
        ];
    }

    /// <summary>An in-process sidecar on the stack's clock; <paramref name="logs"/>, when given, keeps everything it logs.</summary>
    public async Task<RunningSidecar> StartSidecarAsync(IEnumerable<string> args, LogCapture? logs = null)
    {
        var overrides = new SidecarHostOverrides { Time = Time, Logging = logs is null ? null : logging => logging.AddProvider(logs) };
        Sidecar = await RunningSidecar.StartAsync(args, overrides).Bounded();
        return Sidecar;
    }

    /// <summary>
    /// The built sidecar as a child process pointed at this stack's metadata emulator, with its token socket at
    /// <see cref="SidecarProcessSocket"/> and its admin listener on a free loopback port (the process logs which).
    /// It runs on the real clock, so only for stacks on the real clock too.
    /// </summary>
    /// <param name="args">Arguments after those.</param>
    /// <param name="executable">A published <c>injector</c> executable; the JIT build next to the tests when null.</param>
    /// <param name="environment">Variables to set on top of GCE_METADATA_HOST.</param>
    public ChildProcess StartSidecarProcess(IEnumerable<string> args, string? executable = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string[] arguments = ["sidecar", "--socket", SidecarProcessSocket, "--admin-address", "127.0.0.1:0", .. args];
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["GCE_METADATA_HOST"] = Metadata.HostAndPort };
        return executable is null ? ChildProcess.StartAssembly("injector.dll", arguments, variables) : ChildProcess.Start(executable, arguments, variables);
    }

    public GrpcChannel RouteChannel() => GrpcChannel.ForAddress($"http://127.0.0.1:{RoutePort}", new GrpcChannelOptions
    {
        MaxReceiveMessageSize = SampleLimits.MaxMessageSize,
        MaxSendMessageSize = SampleLimits.MaxMessageSize,
    });

    public async ValueTask DisposeAsync()
    {
        if (Sidecar is not null)
        {
            await Sidecar.DisposeAsync();
        }

        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        _metadataHost?.Dispose();
        Authority.Dispose();
        Directory.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
