using System.Net;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using TokenInjector.Emulators.CloudRun;
using TokenInjector.SampleWorkload;
using TokenInjector.SampleWorkload.Server;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Proxy;

/// <summary>
/// Two Cloud Run services for one egress port: the <see cref="CloudRunStack"/>'s (<see cref="HostA"/>) and a second
/// Cloud Run emulator with its own echo service (<see cref="HostB"/>), each with a certificate for its host from the
/// stack's test CA and each accepting only tokens for its own URL. The sidecar reaches both on port 443 through
/// <c>--resolve HOST:443:127.0.0.1:PORT</c>, as it would reach the real services.
/// </summary>
internal sealed class EgressStack : IAsyncDisposable
{
    public const string HostA = CloudRunStack.ServiceHost;
    public const string HostB = "billing-e2e-xyz789-uc.a.run.app";

    private readonly IAsyncDisposable _echoB;

    private EgressStack(CloudRunStack stack, IAsyncDisposable echoB, CloudRunEmulator serviceB)
    {
        Stack = stack;
        _echoB = echoB;
        ServiceB = serviceB;
    }

    public CloudRunStack Stack { get; }

    public CloudRunEmulator ServiceA => Stack.CloudRun;

    public CloudRunEmulator ServiceB { get; }

    public int EgressPort { get; } = FreePort.Next();

    public string ProxyUrl => $"http://127.0.0.1:{EgressPort}";

    /// <summary>Requests the two services received, accepted or not: zero after anything that must not be forwarded.</summary>
    public long ServicesReached => ServiceA.Stats.Accepted + ServiceA.Stats.Rejected + ServiceB.Stats.Accepted + ServiceB.Stats.Rejected;

    public static async Task<EgressStack> StartAsync(TimeProvider? time = null, TimeSpan? tokenLifetime = null)
    {
        var stack = await CloudRunStack.StartAsync(time, tokenLifetime);
        var echo = EchoServer.Build(new EchoServerOptions(new IPEndPoint(IPAddress.Loopback, 0), LogLevel.Warning));
        await echo.StartAsync().Bounded();
        var serviceB = await CloudRunEmulator.StartAsync(new CloudRunEmulatorOptions
        {
            ServiceUrl = "https://" + HostB,
            Upstream = EchoServer.GetBoundUri(echo),
            Certificate = stack.Authority.IssueServerCertificate(HostB),
            JwksUri = stack.Metadata.JwksUri,
            Time = stack.Time,
        }).Bounded();
        return new EgressStack(stack, echo, serviceB);
    }

    /// <summary>The sidecar arguments: the egress port, the two services on 443, the test CA, and <paramref name="extra"/>.</summary>
    public IReadOnlyList<string> EgressArgs(params string[] extra) =>
    [
        "--egress", EgressPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--resolve", $"{HostA}:443:127.0.0.1:{ServiceA.Port}",
        "--resolve", $"{HostB}:443:127.0.0.1:{ServiceB.Port}",
        "--upstream-ca-file", Stack.CaFile,
        .. extra,
    ];

    public Task<RunningSidecar> StartSidecarAsync(params string[] extra) => Stack.StartSidecarAsync(EgressArgs(extra));

    /// <summary>
    /// The .NET recipe for gRPC through the egress port: the channel's address is the service's plain-HTTP URL (so
    /// <c>:authority</c> names it) and every connection is dialled to the egress port instead.
    /// </summary>
    public GrpcChannel Channel(string host) => GrpcChannel.ForAddress($"http://{host}", new GrpcChannelOptions
    {
        HttpHandler = LoopbackHttp.Handler(new IPEndPoint(IPAddress.Loopback, EgressPort)),
        MaxReceiveMessageSize = SampleLimits.MaxMessageSize,
        MaxSendMessageSize = SampleLimits.MaxMessageSize,
    });

    public async ValueTask DisposeAsync()
    {
        await ServiceB.DisposeAsync();
        await _echoB.DisposeAsync();
        await Stack.DisposeAsync();
    }
}
