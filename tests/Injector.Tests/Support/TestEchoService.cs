using Grpc.Core;
using TokenInjector.Tests.Support.Grpc;

namespace TokenInjector.Tests.Support;

/// <summary>The upstream gRPC service: echoes messages and reports the auth headers and authority it received.</summary>
internal sealed class TestEchoService : TestEcho.TestEchoBase
{
    public override Task<EchoReply> Unary(EchoRequest request, ServerCallContext context) =>
        Task.FromResult(Reply(request.Message, context));

    public override async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        for (var i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(Reply($"{request.Message} {i}", context));
        }
    }

    public override async Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
    {
        var messages = new List<string>();
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            messages.Add(request.Message);
        }

        return Reply(string.Join(",", messages), context);
    }

    public override async Task Bidi(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(Reply(request.Message, context));
        }
    }

    public override Task<EchoReply> Fail(FailRequest request, ServerCallContext context)
    {
        context.ResponseTrailers.Add("x-test-trailer", request.Message);
        throw new RpcException(new Status((StatusCode)request.Code, request.Detail));
    }

    public override async Task<EchoReply> Hang(EchoRequest request, ServerCallContext context)
    {
        await Task.Delay(Timeout.Infinite, context.CancellationToken);
        return Reply(request.Message, context);
    }

    private static EchoReply Reply(string message, ServerCallContext context)
    {
        var headers = context.GetHttpContext().Request.Headers;
        return new EchoReply
        {
            Message = message,
            Authorization = headers.Authorization.ToString(),
            ServerlessAuthorization = headers["X-Serverless-Authorization"].ToString(),
            Authority = context.GetHttpContext().Request.Host.Value ?? string.Empty,
        };
    }
}
