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
/// for <see cref="GceMetadataHostSerialGroup"/> tests), a route port, and sidecars in-process
/// (<see cref="StartSidecarAsync"/>) or as processes (<see cref="Sidecar"/>).
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
    public IReadOnlyList<string> RouteArgs(string? audience = null, int? port = null, string host = ServiceHost) =>
        Stack.RouteArgs(RoutePort, audience, port, host);

    /// <summary>
    /// An in-process sidecar (<see cref="RunningSidecar"/>) on the stack's clock, stopped with the stack;
    /// <paramref name="logs"/>, when given, keeps everything it logs. <see cref="Sidecar"/> is the one for a process.
    /// </summary>
    public async Task<RunningSidecar> StartSidecarAsync(IEnumerable<string> args, LogCapture? logs = null)
    {
        var overrides = new SidecarHostOverrides { Time = Time, Logging = logs is null ? null : logging => logging.AddProvider(logs) };
        return Stack.Own(await RunningSidecar.StartAsync(args, overrides).Bounded());
    }

    /// <summary>
    /// The JIT-built sidecar against this stack, for <see cref="SidecarProcess"/> to run: its token socket
    /// <c>sidecar.sock</c> in the stack's directory, its tokens from the metadata emulator. It runs on the real clock,
    /// so only for stacks on the real clock too.
    /// </summary>
    public SidecarLaunch Sidecar(IReadOnlyList<string> args) => Stack.Sidecar(TestPrograms.Injector, args);

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
