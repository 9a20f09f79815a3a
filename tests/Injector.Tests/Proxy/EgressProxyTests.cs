using System.Text.Json;
using Grpc.Core;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Proxy;

/// <summary>
/// The egress port with clients that no one here wrote (curl, Python requests, Python grpcio) and the .NET recipe,
/// each reaching two Cloud Run emulator services through one port, every service checking that each request carried a
/// token for its own URL; over real sockets, real TLS and real gRPC.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class EgressProxyTests
{
    private const string Email = "app@demo-project.iam.gserviceaccount.com";

    [Fact]
    public async Task Curl_AsForwardProxy_ThroughATunnel_AndWithH2cInTheTunnel_ReachesEachServiceWithItsOwnAudience()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();

        foreach (var host in new[] { EgressStack.HostA, EgressStack.HostB })
        {
            string[][] modes = [["--http1.1"], ["--proxytunnel", "--http1.1"], ["--proxytunnel", "--http2-prior-knowledge"]];
            foreach (var mode in modes)
            {
                var (exitCode, output, error) = await ChildProcess.RunAsync("curl", ["-sS", "--max-time", "20", "-x", egress.ProxyUrl, .. mode, $"http://{host}/whoami"]);

                Assert.True(exitCode == 0, $"curl {string.Join(' ', mode)} to {host}: {error}");
                using var whoami = JsonDocument.Parse(output);
                Assert.Equal(Email, whoami.RootElement.GetProperty("email").GetString());
                Assert.Equal("https://" + host, whoami.RootElement.GetProperty("audience").GetString());
            }
        }

        Assert.Equal(3, egress.ServiceA.Stats.Accepted);
        Assert.Equal(3, egress.ServiceB.Stats.Accepted);
        Assert.Equal(0, egress.ServiceA.Stats.Rejected + egress.ServiceB.Stats.Rejected);
        Assert.Equal(EgressStack.HostB, egress.ServiceB.Stats.LastServerName);
        Assert.Equal(EgressStack.HostB, egress.ServiceB.Stats.LastAuthority);
    }

    [Fact]
    public async Task DotNetRecipe_AllFourCallKinds_ToBothServices()
    {
        await using var egress = await EgressStack.StartAsync();
        await egress.StartSidecarAsync();

        foreach (var host in new[] { EgressStack.HostA, EgressStack.HostB })
        {
            using var channel = egress.Channel(host);
            var client = new Echo.EchoClient(channel);
            var unary = await client.UnaryAsync(new EchoRequest { Message = "hello" }, deadline: TestWait.Deadline());
            Assert.Equal("https://" + host, unary.Caller.Audience);
            Assert.Equal(host, unary.Headers[":authority"][..host.Length]);

            using var stream = client.ServerStream(new StreamRequest { Message = "s", Count = 100 }, deadline: TestWait.Deadline());
            Assert.Equal(100, await stream.ResponseStream.ReadAllAsync().CountAsync().AsTask().Bounded());
        }
    }
}
