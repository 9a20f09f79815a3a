using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using TokenInjector.DevStack.Certificates;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Proxy;

/// <summary>
/// An app with no auth code → sidecar route → Cloud Run emulator (TLS, token checks) → sample echo service, all
/// over real sockets, real TLS with a test CA, and real gRPC.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class RouteProxyTests
{
    [Fact]
    public async Task AllFourCallKinds_LargeMessages_StatusesAndTrailers_PassThrough()
    {
        await using var stack = await CloudRunStack.StartAsync();
        await stack.StartSidecarAsync(stack.RouteArgs());
        using var channel = stack.RouteChannel();
        var client = new Echo.EchoClient(channel);

        var unary = await client.UnaryAsync(new EchoRequest { Message = "hello" }, deadline: TestWait.Deadline());
        Assert.Equal("hello", unary.Message);
        Assert.Equal("app@demo-project.iam.gserviceaccount.com", unary.Caller.Email);
        Assert.Equal(CloudRunStack.ServiceUrl, unary.Caller.Audience);
        Assert.True(unary.Caller.SignatureRemovedByGoogle);
        Assert.Equal($"{CloudRunStack.ServiceHost}:{stack.CloudRun.Port}", unary.Headers[":authority"]);

        using (var stream = client.ServerStream(new StreamRequest { Message = "s", Count = 1000 }, deadline: TestWait.Deadline()))
        {
            var count = 0;
            await foreach (var reply in stream.ResponseStream.ReadAllAsync())
            {
                Assert.Equal(count++, reply.Sequence);
            }

            Assert.Equal(1000, count);
            Assert.StartsWith("server-stream:ok", stream.GetTrailers().GetValue("x-echo-trailer"), StringComparison.Ordinal);
        }

        using (var upload = client.ClientStream(deadline: TestWait.Deadline()))
        {
            for (var i = 0; i < 50; i++)
            {
                await upload.RequestStream.WriteAsync(new EchoRequest { Message = "m" + i });
            }

            await upload.RequestStream.CompleteAsync();
            Assert.Equal(50, (await upload.ResponseAsync.Bounded()).Count);
        }

        using (var bidi = client.Bidi(deadline: TestWait.Deadline()))
        {
            for (var i = 0; i < 20; i++)
            {
                await bidi.RequestStream.WriteAsync(new EchoRequest { Message = "b" + i });
                Assert.True(await bidi.ResponseStream.MoveNext().Bounded());
                Assert.Equal("b" + i, bidi.ResponseStream.Current.Message);
            }

            await bidi.RequestStream.CompleteAsync();
            Assert.False(await bidi.ResponseStream.MoveNext().Bounded());
        }

        var payload = ByteString.CopyFrom(new byte[10 * 1024 * 1024]);
        var large = await client.UnaryAsync(new EchoRequest { Message = "large", Payload = payload }, deadline: TestWait.Deadline());
        Assert.Equal(payload.Length, large.Payload.Length);

        var deadline = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync(new EchoRequest { Message = "slow", DelayMs = 5000 }, deadline: DateTime.UtcNow.AddMilliseconds(300)).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, deadline.StatusCode);

        var failed = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync(new EchoRequest { Message = "x", FailWithStatus = (int)StatusCode.NotFound }, deadline: TestWait.Deadline()).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, failed.StatusCode);
        Assert.Equal("unary:NotFound", failed.Trailers.GetValue("x-echo-trailer"));

        Assert.Equal(0, stack.CloudRun.Stats.WithoutToken);
        Assert.Equal(0, stack.CloudRun.Stats.Rejected);
        Assert.Equal(CloudRunStack.ServiceHost, stack.CloudRun.Stats.LastServerName);
        Assert.Equal(CloudRunStack.ServiceHost + ":" + stack.CloudRun.Port, stack.CloudRun.Stats.LastAuthority);
    }

    [Fact]
    public async Task SuccessfulCalls_AtTheDefaultLogLevel_WriteNoLogLines()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var logs = new LogCapture();
        await stack.StartSidecarAsync(stack.RouteArgs(), logs);
        using var channel = stack.RouteChannel();
        var client = new Echo.EchoClient(channel);
        await client.UnaryAsync(new EchoRequest { Message = "warm-up" }, deadline: TestWait.Deadline());
        var before = logs.Count;

        for (var i = 0; i < 50; i++)
        {
            await client.UnaryAsync(new EchoRequest { Message = "quiet" }, deadline: TestWait.Deadline());
        }

        // A line per call would flood the pod's log and cost more CPU than forwarding the call.
        Assert.True(logs.Count == before, $"50 calls logged {logs.Count - before} lines:\n{logs.Text}");
    }

    [Fact]
    public async Task PlainHttp11_ThroughTheSamePort_WithHttpClientAndCurl()
    {
        await using var stack = await CloudRunStack.StartAsync();
        await stack.StartSidecarAsync(stack.RouteArgs());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{stack.RoutePort}"), Timeout = TestWait.Limit };

        using var response = await http.GetAsync("/whoami").Bounded();
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal("app@demo-project.iam.gserviceaccount.com", body.RootElement.GetProperty("email").GetString());
        }

        var (exitCode, output, _) = await ChildProcess.RunAsync("curl", ["-sS", "--http1.1", "--max-time", "20", $"http://127.0.0.1:{stack.RoutePort}/whoami"]);
        Assert.Equal(0, exitCode);
        Assert.Contains("app@demo-project.iam.gserviceaccount.com", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PythonGrpcClient_ThroughTheRoute()
    {
        await using var stack = await CloudRunStack.StartAsync();
        await stack.StartSidecarAsync(stack.RouteArgs());
        var script = Path.Combine(AppContext.BaseDirectory, "Proxy", "python_echo_client.py");

        var (exitCode, output, error) = await ChildProcess.RunAsync("/usr/bin/python3", [script, $"127.0.0.1:{stack.RoutePort}", "from-python"]);

        Assert.True(exitCode == 0, error);
        Assert.Contains("message=from-python", output, StringComparison.Ordinal);
        Assert.Contains("caller=app@demo-project.iam.gserviceaccount.com", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Twenty-second tokens through ninety one-second moves of the clock, with four callers going on between moves:
    /// every refresh happens under load, and none of them ever fails a call.
    /// </summary>
    [Fact]
    public async Task TwentySecondTokens_FourCallersFor90Seconds_NoFailedCall_SeveralTokensSeen()
    {
        var clock = new SteppingClock();
        await using var stack = await CloudRunStack.StartAsync(clock, TimeSpan.FromSeconds(20));
        await stack.StartSidecarAsync(stack.RouteArgs());
        using var channel = stack.RouteChannel();
        var client = new Echo.EchoClient(channel);

        var calls = await CallsAcrossRotations.RunAsync(clock, refreshLoops: 1, moves: 90, TimeSpan.FromSeconds(1), callers: 4, async id =>
        {
            var reply = await client.UnaryAsync(new EchoRequest { Message = "c" + id }, deadline: TestWait.Deadline());
            Assert.Equal("c" + id, reply.Message);
        });

        Assert.True(calls >= 90 * 4, $"{calls} calls");
        Assert.Equal(0, stack.CloudRun.Stats.Rejected);
        Assert.True(stack.CloudRun.Stats.DistinctTokens >= 5, $"the service saw {stack.CloudRun.Stats.DistinctTokens} distinct tokens in 90 s of 20-second tokens");
    }

    [Fact]
    public async Task WrongAudience_IsUnauthenticated_Counted_AndDoesNotLoopRefreshes()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var sidecar = await stack.StartSidecarAsync(stack.RouteArgs(audience: "https://wrong.example"));
        using var channel = stack.RouteChannel();
        var client = new Echo.EchoClient(channel);

        for (var i = 0; i < 10; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync(new EchoRequest { Message = "x" }, deadline: TestWait.Deadline()).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        }

        Assert.Equal(10, stack.CloudRun.Stats.RejectedBy("wrong_audience"));
        Assert.InRange(stack.Metadata.IdentityRequests("https://wrong.example"), 1, 2);
        var counted = $"token_injector_proxy_requests_total{{route=\"{stack.RoutePort}\",code=\"401\"}} 10";
        var metrics = await sidecar.MetricsOnceTheyShowAsync(counted);
        Assert.Contains(counted, metrics, StringComparison.Ordinal);
        Assert.Contains($"token_injector_upstream_rejections_total{{route=\"{stack.RoutePort}\"}} 10", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallerNotAnInvoker_IsPermissionDenied()
    {
        await using var stack = await CloudRunStack.StartAsync(cloudRun: o => o.Invokers.Add("someone-else@demo-project.iam.gserviceaccount.com"));
        await stack.StartSidecarAsync(stack.RouteArgs());
        using var channel = stack.RouteChannel();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "x" }, deadline: TestWait.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task MetadataServerDownBeforeTheFirstToken_Unavailable_NothingForwardedWithoutAToken()
    {
        await using var stack = await CloudRunStack.StartAsync();
        await stack.Metadata.StopListeningAsync().Bounded();
        await stack.StartSidecarAsync(stack.RouteArgs());
        using var channel = stack.RouteChannel();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "x" }, deadline: TestWait.Deadline()).ResponseAsync);
        using var http = new HttpClient { Timeout = TestWait.Limit };
        using var plain = await http.GetAsync($"http://127.0.0.1:{stack.RoutePort}/whoami").Bounded();

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("no ID token for " + CloudRunStack.ServiceUrl, error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, plain.StatusCode);
        Assert.Equal(0, stack.CloudRun.Stats.Accepted + stack.CloudRun.Stats.Rejected);
    }

    [Fact]
    public async Task UpstreamPortClosed_UnavailableWithinASecond()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var closedPort = FreePort.Next();
        await stack.StartSidecarAsync(
        [
            "--route", $"{stack.RoutePort}=https://{CloudRunStack.ServiceHost}:{closedPort}",
            "--resolve", $"{CloudRunStack.ServiceHost}:{closedPort}:127.0.0.1",
            "--upstream-ca-file", stack.CaFile,
        ]);
        using var channel = stack.RouteChannel();
        var client = new Echo.EchoClient(channel);
        await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync(new EchoRequest(), deadline: TestWait.Deadline()).ResponseAsync);

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync(new EchoRequest(), deadline: TestWait.Deadline()).ResponseAsync);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"{watch.Elapsed}");
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("upstream", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntrustedUpstreamCertificate_FailsTheCall_AndTheServiceReceivesNothing()
    {
        await using var stack = await CloudRunStack.StartAsync();
        using var otherAuthority = DevCertificateAuthority.Create("some other CA");
        var otherCa = otherAuthority.WriteCaPem(stack.Directory.Path, "other-ca.pem");
        await stack.StartSidecarAsync(
        [
            "--route", $"{stack.RoutePort}=https://{CloudRunStack.ServiceHost}:{stack.CloudRun.Port}",
            "--resolve", $"{CloudRunStack.ServiceHost}:{stack.CloudRun.Port}:127.0.0.1",
            "--upstream-ca-file", otherCa,
        ]);
        using var channel = stack.RouteChannel();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).UnaryAsync(new EchoRequest(), deadline: TestWait.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(0, stack.CloudRun.Stats.Accepted + stack.CloudRun.Stats.Rejected);
    }

    [Fact]
    public async Task ServerlessHeaderMode_TheAppsOwnAuthorizationReachesTheService()
    {
        await using var stack = await CloudRunStack.StartAsync();
        await stack.StartSidecarAsync([.. stack.RouteArgs(), "--auth-header", "x-serverless-authorization"]);
        using var channel = stack.RouteChannel();
        var headers = new Metadata { { "authorization", "Bearer app-own-credential" }, { "x-custom", "kept" } };

        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "x" }, headers, deadline: TestWait.Deadline());

        Assert.Equal("x-serverless-authorization", reply.Caller.Header);
        Assert.Equal("app@demo-project.iam.gserviceaccount.com", reply.Caller.Email);
        Assert.Equal("present", reply.Headers["authorization"]);
        Assert.Equal("kept", reply.Headers["x-custom"]);
    }

    [Fact]
    public async Task ServerlessHeaderMode_TheAppsAuthorizationValueArrivesUnchanged()
    {
        await using var stack = await CloudRunStack.StartAsync(headerEchoUpstream: true);
        await stack.StartSidecarAsync([.. stack.RouteArgs(), "--auth-header", "x-serverless-authorization"]);
        using var http = new HttpClient { Timeout = TestWait.Limit };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{stack.RoutePort}/headers");
        request.Headers.TryAddWithoutValidation("Authorization", "Basic YXBwOm93bi1zZWNyZXQ=");

        using var response = await http.SendAsync(request).Bounded();
        using var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Basic YXBwOm93bi1zZWNyZXQ=", seen.RootElement.GetProperty("authorization").GetString());
        Assert.EndsWith(".SIGNATURE_REMOVED_BY_GOOGLE", seen.RootElement.GetProperty("x-serverless-authorization").GetString(), StringComparison.Ordinal);
    }
}
