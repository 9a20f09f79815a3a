using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using TokenInjector.SampleWorkload;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.SampleWorkload.Server;

namespace TokenInjector.Tests.SampleWorkload;

/// <summary>A real echo server on a free loopback port, and an h2c gRPC client for it.</summary>
public sealed class EchoServerFixture : IAsyncLifetime
{
    /// <summary>Bound for every await in these tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private WebApplication? _app;
    private GrpcChannel? _channel;

    public Uri Address { get; private set; } = null!;

    internal Echo.EchoClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _app = EchoServer.Build(new EchoServerOptions(new IPEndPoint(IPAddress.Loopback, 0), LogLevel.Warning));
        await _app.StartAsync().WaitAsync(Timeout);
        Address = EchoServer.GetBoundUri(_app);
        _channel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = SampleLimits.MaxMessageSize,
            MaxSendMessageSize = SampleLimits.MaxMessageSize,
        });
        Client = new Echo.EchoClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(Timeout);
            await _app.DisposeAsync();
        }
    }

    /// <summary>A call deadline that also bounds the test.</summary>
    public static DateTime Deadline() => DateTime.UtcNow + Timeout;
}
