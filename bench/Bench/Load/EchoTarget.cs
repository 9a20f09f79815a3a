using System.Net;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using TokenInjector.DevStack.Network;
using TokenInjector.SampleWorkload.Protos;

namespace TokenInjector.Bench.Load;

/// <summary>
/// Where the gRPC load goes: a plain h2c listener (the sidecar's route, nginx, haproxy) or the TLS upstream itself,
/// dialled at <paramref name="ConnectTo"/> while TLS verifies the address's host against <paramref name="TrustedCa"/>.
/// <paramref name="BearerToken"/> is sent by the client itself (the direct calls), as an app without a sidecar would.
/// </summary>
internal sealed record EchoTarget(Uri Address, IPEndPoint? ConnectTo = null, X509Certificate2? TrustedCa = null, string? BearerToken = null)
{
    /// <summary>
    /// Unary Echo workers for <see cref="ClosedLoop"/>, <paramref name="concurrency"/> of them spread over
    /// <paramref name="connections"/> HTTP/2 connections (one channel each); dispose the channels after the run.
    /// </summary>
    public (IReadOnlyList<ClosedLoop.SendOne> Workers, IDisposable Channels) Open(int connections, int concurrency)
    {
        var channels = Enumerable.Range(0, connections).Select(_ => GrpcChannel.ForAddress(Address, new GrpcChannelOptions
        {
            HttpHandler = Handler(),
            DisposeHttpClient = true,
        })).ToList();
        var headers = BearerToken is null ? [] : new Metadata { { "authorization", "Bearer " + BearerToken } };
        var request = new EchoRequest { Message = "bench" };
        var workers = Enumerable.Range(0, concurrency).Select(i =>
        {
            var client = new Echo.EchoClient(channels[i % connections]);
            return (ClosedLoop.SendOne)(async cancellationToken => await client.UnaryAsync(request, headers, cancellationToken: cancellationToken));
        }).ToList();
        return (workers, new ChannelSet(channels));
    }

    private SocketsHttpHandler Handler()
    {
        var handler = LoopbackHttp.Handler(ConnectTo, TrustedCa);
        handler.PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan;
        return handler;
    }

    private sealed class ChannelSet(List<GrpcChannel> channels) : IDisposable
    {
        public void Dispose() => channels.ForEach(channel => channel.Dispose());
    }
}
