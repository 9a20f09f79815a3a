using System.Net;
using k8s;
using k8s.Models;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Serving;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// The container the webhook injects really runs: <c>injector sidecar</c> is started with exactly its args and env
/// against the emulators, becomes ready, serves a token and proxies a call. Only what a test machine needs differs:
/// the socket and admin port are redirected to a temp path and a free port, and the environment adds what a cluster
/// provides (the metadata server address, DNS for the service via TOKEN_INJECTOR_RESOLVE, trust for the test CA via
/// TOKEN_INJECTOR_UPSTREAM_CA_FILE).
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class InjectedSidecarRunTests
{
    [Fact]
    public async Task InjectedContainer_BecomesReady_ServesATokenOnItsSocket_AndProxiesACall()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var route = $"{stack.RoutePort}=https://{CloudRunStack.ServiceHost}:{stack.CloudRun.Port}";
        var decision = PodAdmission.Decide(
            InjectionAnnotationsTests.Pod(new() { ["token-injector.dev/routes"] = route }),
            PodMutatorGoldenTests.Defaults);
        var added = decision.Patch!.Single(op => op!["path"]!.GetValue<string>() == "/spec/initContainers")!["value"]![0]!;
        var container = KubernetesJson.Deserialize<V1Container>(added.ToJsonString());
        var socket = stack.Directory.File("injected.sock");
        var args = container.Args.Select(arg => arg switch
        {
            _ when arg.StartsWith("--socket=", StringComparison.Ordinal) => "--socket=" + socket,
            _ when arg.StartsWith("--admin-address=", StringComparison.Ordinal) => "--admin-address=127.0.0.1:0",
            _ => arg,
        }).ToList();
        var environment = (container.Env ?? []).ToDictionary(e => e.Name, e => e.Value);
        environment["GCE_METADATA_HOST"] = stack.Metadata.HostAndPort;
        environment["TOKEN_INJECTOR_RESOLVE"] = $"{CloudRunStack.ServiceHost}:{stack.CloudRun.Port}:127.0.0.1";
        environment["TOKEN_INJECTOR_UPSTREAM_CA_FILE"] = stack.CaFile;

        using var sidecar = ChildProcess.StartAssembly("injector.dll", args, environment);
        await sidecar.WaitForLineAsync(line => line.Contains("New token for", StringComparison.Ordinal));
        using var tokenApi = UnixSocketHttpClient.Create(socket, TestWait.Limit);
        using var token = await tokenApi.GetAsync("/v1/token?audience=" + Uri.EscapeDataString(CloudRunStack.ServiceUrl)).Bounded();
        using var channel = stack.RouteChannel();
        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "injected" }, deadline: TestWait.Deadline());
        await sidecar.TerminateAsync();
        await sidecar.WaitForExitAsync();

        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Equal("injected", reply.Message);
        Assert.Equal("app@demo-project.iam.gserviceaccount.com", reply.Caller.Email);
        Assert.Equal(0, sidecar.ExitCode);
    }
}
