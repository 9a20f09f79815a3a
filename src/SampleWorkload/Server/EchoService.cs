using Grpc.Core;
using TokenInjector.SampleWorkload.Protos;

namespace TokenInjector.SampleWorkload.Server;

/// <summary>
/// The <c>Echo</c> service. Each request may ask the server to wait (<c>delay_ms</c>, cut short by the call's
/// cancellation or deadline) or to fail (<c>fail_with_status</c>), so the proxy's handling of slow calls, deadlines,
/// errors and trailers can be exercised end to end. Every call ends with the <c>x-echo-trailer</c> trailer.
/// </summary>
internal sealed partial class EchoService(ILogger<EchoService> logger) : Echo.EchoBase
{
    public override async Task<EchoReply> Unary(EchoRequest request, ServerCallContext context)
    {
        var call = CallInfo.Of("unary", context);
        var reply = await AnswerAsync(call, request, sequence: 0);
        call.Succeed();
        return reply;
    }

    public override async Task ServerStream(
        StreamRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        var call = CallInfo.Of("server-stream", context);
        if (request.Count < 0 || request.IntervalMs < 0)
        {
            throw call.Fail(StatusCode.InvalidArgument, "count and interval_ms must not be negative");
        }

        for (var i = 0; i < request.Count; i++)
        {
            if (i > 0 && request.IntervalMs > 0)
            {
                await Task.Delay(request.IntervalMs, context.CancellationToken);
            }

            await responseStream.WriteAsync(call.Reply(request.Message, Google.Protobuf.ByteString.Empty, i));
        }

        if (request.FailWithStatus != 0)
        {
            throw FailOnRequest(call, request.FailWithStatus);
        }

        call.Succeed();
    }

    public override async Task<EchoSummary> ClientStream(
        IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
    {
        var call = CallInfo.Of("client-stream", context);
        var count = 0;
        var totalBytes = 0L;
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await WaitOrFailAsync(call, request);
            count++;
            totalBytes += request.Payload.Length;
        }

        call.Succeed();
        return new EchoSummary { Count = count, TotalBytes = totalBytes, Caller = call.Caller };
    }

    public override async Task Bidi(
        IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        var call = CallInfo.Of("bidi", context);
        var sequence = 0;
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(await AnswerAsync(call, request, sequence++));
        }

        call.Succeed();
    }

    private async Task<EchoReply> AnswerAsync(CallInfo call, EchoRequest request, int sequence)
    {
        await WaitOrFailAsync(call, request);
        return call.Reply(request.Message, request.Payload, sequence);
    }

    private async Task WaitOrFailAsync(CallInfo call, EchoRequest request)
    {
        if (request.DelayMs < 0)
        {
            throw call.Fail(StatusCode.InvalidArgument, "delay_ms must not be negative");
        }

        if (request.DelayMs > 0)
        {
            // Ends early with the call: a passed deadline or a cancelled client leaves no work running here.
            await Task.Delay(request.DelayMs, call.Context.CancellationToken);
        }

        if (request.FailWithStatus != 0)
        {
            throw FailOnRequest(call, request.FailWithStatus);
        }
    }

    private RpcException FailOnRequest(CallInfo call, int status)
    {
        if (status is < 1 or > (int)StatusCode.Unauthenticated)
        {
            return call.Fail(StatusCode.InvalidArgument, $"fail_with_status must be a gRPC status code 1..16, got {status}");
        }

        var code = (StatusCode)status;
        LogFailingOnRequest(logger, call.Method, code);
        return call.Fail(code, $"failed on request: fail_with_status={status} ({code})");
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Failing {Method} with {Status} as the request asked")]
    private static partial void LogFailingOnRequest(ILogger logger, string method, StatusCode status);

    /// <summary>Per-call state: who called, the selected headers, and the trailer written at the end.</summary>
    private sealed class CallInfo(string method, ServerCallContext context, CallerIdentity caller, Dictionary<string, string> headers)
    {
        public string Method { get; } = method;

        public ServerCallContext Context { get; } = context;

        public CallerIdentity Caller { get; } = caller;

        public static CallInfo Of(string method, ServerCallContext context)
        {
            var request = context.GetHttpContext().Request;
            return new CallInfo(
                method,
                context,
                CallerIdentityReader.Read(name => RequestHeaderSummary.Lookup(request, name)),
                RequestHeaderSummary.From(request));
        }

        public EchoReply Reply(string message, Google.Protobuf.ByteString payload, int sequence)
        {
            var reply = new EchoReply { Message = message, Payload = payload, Caller = Caller, Sequence = sequence };
            reply.Headers.Add(headers);
            return reply;
        }

        public void Succeed() => Context.ResponseTrailers.Add(SampleLimits.TrailerName, $"{Method}:ok");

        // The trailer rides on the exception so it is sent with the error status.
        public RpcException Fail(StatusCode code, string detail) =>
            new(new Status(code, detail), new Metadata { { SampleLimits.TrailerName, $"{Method}:{code}" } });
    }
}
