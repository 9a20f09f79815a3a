using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using TokenInjector.DevStack.Certificates;
using TokenInjector.DevStack.Stack;
using TokenInjector.Emulators.CloudRun;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Hosting;
using TokenInjector.SampleWorkload;

namespace TokenInjector.Tests.Support;

/// <summary>
/// The dev stack (<see cref="LocalStack"/>) in-process, as the tests use it: every part on one clock (which a test may
/// run faster than real time), the metadata emulator also reached through the process-wide GCE_METADATA_HOST (so only
/// for <see cref="GceMetadataHostSerialGroup"/> tests), a route port, and sidecars in-process or as processes.
/// </summary>
internal sealed class CloudRunStack : IAsyncDisposable
{
    public const string ServiceHost = "echo-e2e-abc123-uc.a.run.app";
    public const string ServiceUrl = "https://" + ServiceHost;

    private readonly GceMetadataHost _metadataHost;

    private CloudRunStack(LocalStack stack, TimeProvider time)
    {
        Stack = stack;
        Time = time;
        _metadataHost = new GceMetadataHost(stack.MetadataHostAndPort);
    }

    public LocalStack Stack { get; }

    public TimeProvider Time { get; }

    public TempDirectory Directory => Stack.Directory;

    public DevCertificateAuthority Authority => Stack.Authority;

    public string CaFile => Stack.CaFile;

    public MetadataEmulator Metadata => Stack.Metadata;

    public CloudRunEmulator CloudRun => Stack.CloudRun;

    public int RoutePort { get; } = FreePort.Next();

    /// <summary>The token socket of a sidecar started by <see cref="StartSidecarProcess"/>.</summary>
    public string SidecarProcessSocket => Directory.File("sidecar.sock");

    /// <param name="time">The clock of every part; the real one unless given.</param>
    /// <param name="tokenLifetime">Lifetime of the metadata emulator's tokens; an hour unless given.</param>
    /// <param name="metadata">Changes the metadata emulator's options before it starts.</param>
    /// <param name="cloudRun">Changes the Cloud Run emulator's options before it starts.</param>
    /// <param name="headerEchoUpstream">Behind the Cloud Run emulator, an upstream that echoes the headers it got, instead of the echo service.</param>
    public static async Task<CloudRunStack> StartAsync(
        TimeProvider? time = null,
        TimeSpan? tokenLifetime = null,
        Action<MetadataEmulatorOptions>? metadata = null,
        Action<CloudRunEmulatorOptions>? cloudRun = null,
        bool headerEchoUpstream = false)
    {
        time ??= TimeProvider.System;
        var headers = headerEchoUpstream ? await H2cTestUpstream.StartAsync().Bounded() : null;
        try
        {
            var stack = await LocalStack.StartInProcessAsync(
                new StackOptions { ServiceHost = ServiceHost, TokenLifetime = tokenLifetime ?? TimeSpan.FromHours(1) },
                new InProcessHosting { Time = time, Metadata = metadata, CloudRun = cloudRun, Upstream = headers?.Uri }).Bounded();
            if (headers is not null)
            {
                stack.Own(headers);
            }

            return new CloudRunStack(stack, time);
        }
        catch when (headers is not null)
        {
            await headers.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The sidecar arguments for one route to the Cloud Run emulator, trusting the test CA. <paramref name="port"/>
    /// puts something else on loopback in its place (a relay, a closed port); <paramref name="host"/> names the
    /// upstream differently from the emulator's certificate.
    /// </summary>
    public IEnumerable<string> RouteArgs(string? audience = null, int? port = null, string host = ServiceHost) =>
        Stack.RouteArgs(RoutePort, audience, port, host);

    /// <summary>An in-process sidecar on the stack's clock, stopped with the stack; <paramref name="logs"/>, when given, keeps everything it logs.</summary>
    public async Task<RunningSidecar> StartSidecarAsync(IEnumerable<string> args, LogCapture? logs = null)
    {
        var overrides = new SidecarHostOverrides { Time = Time, Logging = logs is null ? null : logging => logging.AddProvider(logs) };
        return Stack.Own(await RunningSidecar.StartAsync(args, overrides).Bounded());
    }

    /// <summary>
    /// The built sidecar as a child process pointed at this stack's metadata emulator, with its token socket at
    /// <see cref="SidecarProcessSocket"/> and its admin listener on a free loopback port (the process logs which).
    /// It runs on the real clock, so only for stacks on the real clock too.
    /// </summary>
    /// <param name="args">Arguments after those.</param>
    /// <param name="executable">A published <c>injector</c> executable; the JIT build next to the tests when null.</param>
    /// <param name="environment">Variables to set on top of GCE_METADATA_HOST.</param>
    public ChildProcess StartSidecarProcess(IEnumerable<string> args, string? executable = null, IReadOnlyDictionary<string, string>? environment = null) =>
        Stack.LaunchSidecar(executable ?? TestPrograms.Injector, args, environment: environment);

    public GrpcChannel RouteChannel() => GrpcChannel.ForAddress($"http://127.0.0.1:{RoutePort}", new GrpcChannelOptions
    {
        MaxReceiveMessageSize = SampleLimits.MaxMessageSize,
        MaxSendMessageSize = SampleLimits.MaxMessageSize,
    });

    public async ValueTask DisposeAsync()
    {
        await Stack.DisposeAsync();
        _metadataHost.Dispose();
    }
}
