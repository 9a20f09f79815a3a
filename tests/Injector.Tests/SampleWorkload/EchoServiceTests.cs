using Google.Protobuf;
using Grpc.Core;
using TokenInjector.SampleWorkload.Protos;

namespace TokenInjector.Tests.SampleWorkload;

[Collection(EchoServerGroup.Name)]
public sealed class EchoServiceTests(EchoServerFixture server)
{
    private static readonly TimeSpan Timeout = EchoServerFixture.Timeout;

    [Fact]
    public async Task Unary_EchoesMessageAndHeaders_AndEndsWithTrailer()
    {
        using var call = server.Client.UnaryAsync(
            new EchoRequest { Message = "hello", Payload = ByteString.CopyFromUtf8("bytes") },
            new Metadata { { "x-custom", "custom-value" } },
            EchoServerFixture.Deadline());

        var reply = await call.ResponseAsync.WaitAsync(Timeout);

        Assert.Equal("hello", reply.Message);
        Assert.Equal("bytes", reply.Payload.ToStringUtf8());
        Assert.Equal($"127.0.0.1:{server.Address.Port}", reply.Headers[":authority"]);
        Assert.Equal("custom-value", reply.Headers["x-custom"]);
        Assert.Equal("absent", reply.Headers["authorization"]);
        Assert.Equal("absent", reply.Headers["x-serverless-authorization"]);
        Assert.True(reply.Headers.ContainsKey("grpc-timeout"));
        Assert.Equal(new CallerIdentity(), reply.Caller);
        Assert.Equal("unary:ok", call.GetTrailers().GetValue("x-echo-trailer"));
    }

    [Fact]
    public async Task ServerStream_SendsCountRepliesInOrder_AndEndsWithTrailer()
    {
        using var call = server.Client.ServerStream(
            new StreamRequest { Message = "tick", Count = 3, IntervalMs = 10 }, deadline: EchoServerFixture.Deadline());

        var replies = await call.ResponseStream.ReadAllAsync().ToListAsync().AsTask().WaitAsync(Timeout);

        Assert.Equal([0, 1, 2], replies.Select(reply => reply.Sequence));
        Assert.All(replies, reply => Assert.Equal("tick", reply.Message));
        Assert.Equal("server-stream:ok", call.GetTrailers().GetValue("x-echo-trailer"));
    }

    [Fact]
    public async Task ClientStream_CountsMessagesAndPayloadBytes()
    {
        using var call = server.Client.ClientStream(deadline: EchoServerFixture.Deadline());
        foreach (var size in new[] { 0, 10, 1000 })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[size]) }).WaitAsync(Timeout);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Timeout);
        var summary = await call.ResponseAsync.WaitAsync(Timeout);

        Assert.Equal(3, summary.Count);
        Assert.Equal(1010, summary.TotalBytes);
        Assert.Equal("client-stream:ok", call.GetTrailers().GetValue("x-echo-trailer"));
    }

    [Fact]
    public async Task Bidi_AnswersEachRequestBeforeTheNextIsSent()
    {
        using var call = server.Client.Bidi(deadline: EchoServerFixture.Deadline());
        for (var i = 0; i < 3; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"m{i}" }).WaitAsync(Timeout);
            Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
            Assert.Equal($"m{i}", call.ResponseStream.Current.Message);
            Assert.Equal(i, call.ResponseStream.Current.Sequence);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Timeout);
        Assert.False(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
        Assert.Equal("bidi:ok", call.GetTrailers().GetValue("x-echo-trailer"));
    }

    [Theory]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.PermissionDenied)]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.Unauthenticated)]
    public async Task Unary_FailWithStatus_FailsWithThatStatusDetailAndTrailer(StatusCode code)
    {
        using var call = server.Client.UnaryAsync(
            new EchoRequest { FailWithStatus = (int)code }, deadline: EchoServerFixture.Deadline());

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));

        Assert.Equal(code, ex.StatusCode);
        Assert.Contains("fail_with_status", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal($"unary:{code}", ex.Trailers.GetValue("x-echo-trailer"));
    }

    [Fact]
    public async Task Unary_FailWithStatusOutOfRange_IsInvalidArgument()
    {
        using var call = server.Client.UnaryAsync(new EchoRequest { FailWithStatus = 99 }, deadline: EchoServerFixture.Deadline());

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("unary:InvalidArgument", ex.Trailers.GetValue("x-echo-trailer"));
    }

    [Fact]
    public async Task ServerStream_FailWithStatus_FailsAfterTheReplies()
    {
        using var call = server.Client.ServerStream(
            new StreamRequest { Count = 2, FailWithStatus = (int)StatusCode.Aborted }, deadline: EchoServerFixture.Deadline());

        Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
        Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().WaitAsync(Timeout));

        Assert.Equal(StatusCode.Aborted, ex.StatusCode);
        Assert.Equal("server-stream:Aborted", ex.Trailers.GetValue("x-echo-trailer"));
    }

    [Fact]
    public async Task Bidi_FailWithStatus_FailsTheCallAfterEarlierReplies()
    {
        using var call = server.Client.Bidi(deadline: EchoServerFixture.Deadline());
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "fine" }).WaitAsync(Timeout);
        Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Timeout));

        await call.RequestStream.WriteAsync(new EchoRequest { FailWithStatus = (int)StatusCode.ResourceExhausted }).WaitAsync(Timeout);
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().WaitAsync(Timeout));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal("bidi:ResourceExhausted", ex.Trailers.GetValue("x-echo-trailer"));
    }

    [Fact]
    public async Task Unary_DelayLongerThanDeadline_IsDeadlineExceeded()
    {
        using var call = server.Client.UnaryAsync(
            new EchoRequest { DelayMs = 20_000 }, deadline: DateTime.UtcNow.AddMilliseconds(300));

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task Unary_DelayWithinDeadline_Answers()
    {
        using var call = server.Client.UnaryAsync(new EchoRequest { Message = "late", DelayMs = 50 }, deadline: EchoServerFixture.Deadline());

        var reply = await call.ResponseAsync.WaitAsync(Timeout);

        Assert.Equal("late", reply.Message);
    }

    [Fact]
    public async Task Unary_TenMegabytePayload_RoundTrips()
    {
        var payload = new byte[10 * 1024 * 1024];
        new Random(42).NextBytes(payload);
        using var call = server.Client.UnaryAsync(
            new EchoRequest { Payload = ByteString.CopyFrom(payload) }, deadline: EchoServerFixture.Deadline());

        var reply = await call.ResponseAsync.WaitAsync(Timeout);

        Assert.True(reply.Payload.Span.SequenceEqual(payload));
    }

    [Fact]
    public async Task Bidi_TenMegabytePayloads_RoundTrip()
    {
        var payload = ByteString.CopyFrom(new byte[10 * 1024 * 1024]);
        using var call = server.Client.Bidi(deadline: EchoServerFixture.Deadline());
        for (var i = 0; i < 2; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Payload = payload }).WaitAsync(Timeout);
            Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
            Assert.Equal(payload.Length, call.ResponseStream.Current.Payload.Length);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Timeout);
        Assert.False(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Unary_BearerTokenWithRemovedSignature_ReportsCallerWithoutEchoingTheToken()
    {
        var token = TestJwt.Google("app@proj.iam.gserviceaccount.com", "https://echo-abc-uc.a.run.app", 1_700_000_000, 1_700_003_600);
        using var call = server.Client.UnaryAsync(
            new EchoRequest { Message = "who" },
            new Metadata { { "authorization", $"Bearer {token}" } },
            EchoServerFixture.Deadline());

        var reply = await call.ResponseAsync.WaitAsync(Timeout);

        Assert.Equal("app@proj.iam.gserviceaccount.com", reply.Caller.Email);
        Assert.Equal("https://echo-abc-uc.a.run.app", reply.Caller.Audience);
        Assert.Equal("1234567890", reply.Caller.Subject);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), reply.Caller.IssuedAt.ToDateTimeOffset());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_003_600), reply.Caller.ExpiresAt.ToDateTimeOffset());
        Assert.Equal("authorization", reply.Caller.Header);
        Assert.True(reply.Caller.SignatureRemovedByGoogle);
        Assert.Equal("present", reply.Headers["authorization"]);
        var everything = reply.ToString() + call.GetTrailers();
        Assert.DoesNotContain(token.Split('.')[1], everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientStream_ServerlessAuthorization_IsPreferredOverAuthorization()
    {
        var serverless = TestJwt.Google("sidecar@proj.iam.gserviceaccount.com", "https://svc", 1, 2);
        var appOwn = TestJwt.Google("someone-else@example.com", "https://other", 1, 2, signature: "real-signature");
        using var call = server.Client.ClientStream(
            new Metadata { { "x-serverless-authorization", $"Bearer {serverless}" }, { "authorization", $"Bearer {appOwn}" } },
            EchoServerFixture.Deadline());
        await call.RequestStream.CompleteAsync().WaitAsync(Timeout);

        var summary = await call.ResponseAsync.WaitAsync(Timeout);

        Assert.Equal("sidecar@proj.iam.gserviceaccount.com", summary.Caller.Email);
        Assert.Equal("x-serverless-authorization", summary.Caller.Header);
    }
}
