using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Proxy;

/// <summary>
/// The egress port with clients that no one here wrote (curl, Python requests, Python grpcio, .NET's HttpClient and
/// Grpc.Net.Client), each reaching two Cloud Run emulator services through one port, every service checking that each
/// request carried a token for its own URL; over real sockets, real TLS and real gRPC.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class EgressProxyTests
{
    private const string Email = "app@demo-project.iam.gserviceaccount.com";

    private static readonly string[] Hosts = [EgressStack.HostA, EgressStack.HostB];

    // The clients below read their proxy from the environment; the test run's own settings must not leak in (an empty
    // value counts as unset for each of them).
    private static readonly string[] ProxyVariables =
        ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "grpc_proxy", "no_grpc_proxy"];

    [Fact]
    public async Task Curl_AsForwardProxy_ThroughATunnel_AndWithH2cInTheTunnel_ReachesEachServiceWithItsOwnAudience()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();

        foreach (var host in Hosts)
        {
            string[][] modes = [["--http1.1"], ["--proxytunnel", "--http1.1"], ["--proxytunnel", "--http2-prior-knowledge"]];
            foreach (var mode in modes)
            {
                var (exitCode, output, error) = await ChildProcess.RunAsync(
                    "curl", ["-sS", "--max-time", "20", "-x", egress.ProxyUrl, .. mode, $"http://{host}/whoami"], ProxyEnvironment());

                Assert.True(exitCode == 0, $"curl {string.Join(' ', mode)} to {host}: {error}");
                AssertWhoami(host, output);
            }
        }

        Assert.Equal(3, egress.ServiceA.Stats.Accepted);
        Assert.Equal(3, egress.ServiceB.Stats.Accepted);
        Assert.Equal(0, egress.ServiceA.Stats.Rejected + egress.ServiceB.Stats.Rejected);
        Assert.Equal(EgressStack.HostB, egress.ServiceB.Stats.LastServerName);
        Assert.Equal(EgressStack.HostB, egress.ServiceB.Stats.LastAuthority);
    }

    [Fact]
    public async Task PythonRequests_WithHttpProxy_ReachesBothServicesOnOneProxyConnection()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();
        var script = Path.Combine(AppContext.BaseDirectory, "Proxy", "python_http_client.py");

        var (exitCode, output, error) = await ChildProcess.RunAsync(
            "/usr/bin/python3",
            [script, .. Hosts.Select(host => $"http://{host}/whoami")],
            ProxyEnvironment("HTTP_PROXY", egress.ProxyUrl));

        Assert.True(exitCode == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        foreach (var (host, line) in Hosts.Zip(lines))
        {
            Assert.StartsWith("200 ", line, StringComparison.Ordinal);
            AssertWhoami(host, line[4..]);
        }

        Assert.Equal(1, egress.ServiceA.Stats.Accepted);
        Assert.Equal(1, egress.ServiceB.Stats.Accepted);
    }

    [Fact]
    public async Task PythonGrpcio_WithGrpcProxy_AllFourCallKindsThroughTheConnectTunnel_ToBothServices()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();
        var script = Path.Combine(AppContext.BaseDirectory, "Proxy", "python_echo_client.py");

        foreach (var host in Hosts)
        {
            // HOST does not resolve on this machine: only a CONNECT through grpc_proxy can reach it.
            var (exitCode, output, error) = await ChildProcess.RunAsync(
                "/usr/bin/python3",
                [script, $"{host}:80", "from-python", "all"],
                ProxyEnvironment("grpc_proxy", egress.ProxyUrl));

            Assert.True(exitCode == 0, $"{host}: {error}");
            Assert.Contains("message=from-python", output, StringComparison.Ordinal);
            Assert.Contains("caller=" + Email, output, StringComparison.Ordinal);
            var audience = "audience=https://" + host;
            Assert.Contains(audience + "\n", output, StringComparison.Ordinal);
            Assert.Contains("server-stream=20 " + audience, output, StringComparison.Ordinal);
            Assert.Contains("client-stream=20 " + audience, output, StringComparison.Ordinal);
            Assert.Contains("bidi=20 " + audience, output, StringComparison.Ordinal);
        }

        Assert.Equal(4, egress.ServiceA.Stats.Accepted);
        Assert.Equal(4, egress.ServiceB.Stats.Accepted);
        Assert.Equal(0, egress.ServiceA.Stats.Rejected + egress.ServiceB.Stats.Rejected);
    }

    [Fact]
    public async Task DotNetHttpClient_WithAWebProxy_ReachesBothServices()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();
        using var http = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy(egress.ProxyUrl), UseProxy = true }) { Timeout = TestWait.Limit };

        foreach (var host in Hosts)
        {
            AssertWhoami(host, await http.GetStringAsync($"http://{host}/whoami").Bounded());
        }

        Assert.Equal(1, egress.ServiceA.Stats.Accepted);
        Assert.Equal(1, egress.ServiceB.Stats.Accepted);
    }

    [Fact]
    public async Task GrpcNetClient_WithAWebProxy_CannotSendHttp2ThroughIt_SoTheRecipeDialsTheEgressPort()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();
        using var channel = GrpcChannel.ForAddress($"http://{EgressStack.HostA}", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { Proxy = new WebProxy(egress.ProxyUrl), UseProxy = true },
        });

        // SocketsHttpHandler speaks only HTTP/1.1 to an HTTP proxy for http:// URLs (it opens no CONNECT tunnel for
        // them), and gRPC needs HTTP/2: the call fails in the client, before anything reaches the egress port.
        var error = await Assert.ThrowsAsync<RpcException>(
            () => new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "x" }, deadline: TestWait.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(0, egress.ServicesReached);
    }

    [Fact]
    public async Task GrpcNetClient_TheRecipe_AllFourCallKinds_ToBothServices()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();

        foreach (var host in Hosts)
        {
            var audience = "https://" + host;
            using var channel = egress.Channel(host);
            var client = new Echo.EchoClient(channel);
            var unary = await client.UnaryAsync(new EchoRequest { Message = "hello" }, deadline: TestWait.Deadline());
            Assert.Equal(audience, unary.Caller.Audience);
            Assert.Equal(host, unary.Headers[":authority"][..host.Length]);

            using var stream = client.ServerStream(new StreamRequest { Message = "s", Count = 100 }, deadline: TestWait.Deadline());
            var streamed = await stream.ResponseStream.ReadAllAsync().ToListAsync().AsTask().Bounded();
            Assert.Equal(100, streamed.Count);
            Assert.Equal(audience, streamed[^1].Caller.Audience);

            using var upload = client.ClientStream(deadline: TestWait.Deadline());
            for (var i = 0; i < 10; i++)
            {
                await upload.RequestStream.WriteAsync(new EchoRequest { Message = "c" }).Bounded();
            }

            await upload.RequestStream.CompleteAsync().Bounded();
            var summary = await upload.ResponseAsync.Bounded();
            Assert.Equal(10, summary.Count);
            Assert.Equal(audience, summary.Caller.Audience);

            using var bidi = client.Bidi(deadline: TestWait.Deadline());
            for (var i = 0; i < 3; i++)
            {
                await bidi.RequestStream.WriteAsync(new EchoRequest { Message = $"m{i}" }).Bounded();
                Assert.True(await bidi.ResponseStream.MoveNext().Bounded());
                Assert.Equal($"m{i}", bidi.ResponseStream.Current.Message);
                Assert.Equal(audience, bidi.ResponseStream.Current.Caller.Audience);
            }

            await bidi.RequestStream.CompleteAsync().Bounded();
            Assert.False(await bidi.ResponseStream.MoveNext().Bounded());
        }

        Assert.Equal(4, egress.ServiceA.Stats.Accepted);
        Assert.Equal(4, egress.ServiceB.Stats.Accepted);
    }

    [Fact]
    public async Task Metrics_CountEgressCallsUnderRouteEgress_AndDynamicAudiencesAsOther_UnlessConfigured()
    {
        await using var egress = await EgressStack.StartAsync();
        var sidecar = await egress.StartSidecarAsync("--audience", "https://" + EgressStack.HostB);

        foreach (var host in Hosts)
        {
            using var channel = egress.Channel(host);
            await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "m" }, deadline: TestWait.Deadline());
        }

        var counted = "token_injector_proxy_requests_total{route=\"egress\",code=\"0\"} 2";
        var metrics = await sidecar.MetricsOnceTheyShowAsync(counted);
        Assert.Contains("token_injector_token_refresh_total{audience=\"other\",result=\"success\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains($"token_injector_token_refresh_total{{audience=\"https://{EgressStack.HostB}\",result=\"success\"}} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(EgressStack.HostA, metrics, StringComparison.Ordinal);
    }

    /// <summary>
    /// Two-minute tokens for both services' audiences (dynamic: learned from the requests) through 150 five-second moves
    /// of the clock, with four callers on the egress port going on between moves: every refresh of either audience
    /// happens under load, and none of them ever fails a call.
    /// </summary>
    [Fact]
    public async Task TwoMinuteTokens_RotateUnderLoadThroughTheEgressPort_WithNoFailedCall()
    {
        var clock = new SteppingClock();
        await using var egress = await EgressStack.StartAsync(clock, TimeSpan.FromMinutes(2));
        await egress.StartSidecarAsync();
        var channels = Hosts.Select(egress.Channel).ToList();
        try
        {
            var calls = await CallsAcrossRotations.RunAsync(clock, refreshLoops: 2, moves: 150, TimeSpan.FromSeconds(5), callers: 4, async id =>
            {
                var reply = await new Echo.EchoClient(channels[id % channels.Count]).UnaryAsync(new EchoRequest { Message = "c" + id }, deadline: TestWait.Deadline());
                Assert.Equal("https://" + Hosts[id % Hosts.Length], reply.Caller.Audience);
            });

            Assert.True(calls >= 150 * 4, $"{calls} calls");
        }
        finally
        {
            channels.ForEach(channel => channel.Dispose());
        }

        foreach (var service in new[] { egress.ServiceA, egress.ServiceB })
        {
            Assert.Equal(0, service.Stats.Rejected);
            Assert.True(service.Stats.DistinctTokens >= 5, $"a service saw {service.Stats.DistinctTokens} distinct tokens in 12.5 minutes of two-minute tokens");
        }
    }

    /// <summary>
    /// Every proxy variable empty but <paramref name="name"/> set to <paramref name="value"/>, in both cases: Python
    /// reads an empty http_proxy as "no proxy" even when HTTP_PROXY is set.
    /// </summary>
    private static Dictionary<string, string> ProxyEnvironment(string? name = null, string? value = null) => ProxyVariables.ToDictionary(
        variable => variable, variable => variable.Equals(name, StringComparison.OrdinalIgnoreCase) ? value! : string.Empty, StringComparer.Ordinal);

    private static void AssertWhoami(string host, string json)
    {
        using var whoami = JsonDocument.Parse(json);
        Assert.Equal(Email, whoami.RootElement.GetProperty("email").GetString());
        Assert.Equal("https://" + host, whoami.RootElement.GetProperty("audience").GetString());
    }
}
