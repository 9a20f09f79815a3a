using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using TokenInjector.Configuration;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// The container the webhook injects really runs: <c>injector sidecar</c> is started with exactly its args and env
/// against the emulators, becomes ready, serves a token and proxies a call. Only what a test machine needs differs:
/// the socket is redirected to a temp path (and, where the test is not about it, the admin port to a free one), and
/// the environment adds what a cluster provides (the metadata server address, DNS for the service via
/// TOKEN_INJECTOR_RESOLVE, trust for the test CA via TOKEN_INJECTOR_UPSTREAM_CA_FILE).
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

        using var sidecar = StartSidecar(stack, container, socket, adminAddress: "127.0.0.1:0");
        await sidecar.WaitForLineAsync(line => line.Contains("New token for", StringComparison.Ordinal));
        using var tokenApi = LoopbackHttp.UnixSocketClient(socket, TestWait.Limit);
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

    /// <summary>
    /// A stand-in for the kubelet runs the patched pod as Kubernetes does: its init containers in order, a
    /// <c>restartPolicy: Always</c> one started and its startup probe polled (HTTP GET on the probe's own port) until
    /// it passes before the next starts, the others run to completion; then the app containers. Each of the pod's
    /// containers is a real process (a shell) that writes the time it started and the time it had its token, fetched
    /// with <c>injector token</c> through the socket its injected env names.
    /// </summary>
    [Fact]
    public async Task InitContainerNamedInTheAnnotation_GetsATokenThroughTheSocket_AfterTheSidecarIsReadyOnItsMovedAdminPort_BeforeTheAppStarts()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var adminPort = FreePort.Next();
        var input = InjectionAnnotationsTests.Pod(
            new()
            {
                ["token-injector.dev/routes"] = $"{stack.RoutePort}=https://{CloudRunStack.ServiceHost}:{stack.CloudRun.Port}",
                ["token-injector.dev/admin-port"] = adminPort.ToString(CultureInfo.InvariantCulture),
                ["token-injector.dev/init-containers"] = "migrate",
            },
            """{"initContainers":[{"name":"migrate","image":"app:1"}],"containers":[{"name":"app","image":"app:1"}]}""");
        var decision = PodAdmission.Decide(input, PodMutatorGoldenTests.Defaults);
        var pod = KubernetesJson.Deserialize<V1Pod>(JsonPatchApplier.Apply(JsonNode.Parse(input.GetRawText())!, decision.Patch!).ToJsonString());

        Assert.Equal([PodMutator.SidecarName, "migrate"], pod.Spec.InitContainers.Select(c => c.Name));
        Assert.Equal(adminPort.ToString(CultureInfo.InvariantCulture), pod.Metadata.Annotations["prometheus.io/port"]);
        var socket = stack.Directory.File("injected.sock");
        var started = new List<ChildProcess>();
        var times = new List<(string Container, string Event, long UnixNanoseconds)>();
        try
        {
            foreach (var container in pod.Spec.InitContainers)
            {
                if (container.RestartPolicy == "Always")
                {
                    // The admin address is the injected one (0.0.0.0 on the annotation's port): the probe finds it there.
                    var sidecar = StartSidecar(stack, container, socket, adminAddress: null);
                    started.Add(sidecar);
                    await StartupProbePassesAsync(container.StartupProbe, sidecar);
                    times.Add((container.Name, "ready", UnixNanoseconds()));
                }
                else
                {
                    times.AddRange(await RunToCompletionAsync(container, socket));
                }
            }

            foreach (var container in pod.Spec.Containers)
            {
                times.AddRange(await RunToCompletionAsync(container, socket));
            }

            using var admin = new HttpClient { Timeout = TestWait.Limit };
            using var metrics = await admin.GetAsync($"http://127.0.0.1:{adminPort}/metrics").Bounded();
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }
        finally
        {
            foreach (var process in started)
            {
                await process.TerminateAsync();
                await process.WaitForExitAsync();
                process.Dispose();
            }
        }

        Assert.Equal(
            [(PodMutator.SidecarName, "ready"), ("migrate", "started"), ("migrate", "token"), ("app", "started"), ("app", "token")],
            times.Select(t => (t.Container, t.Event)));
        Assert.True(times.Select(t => t.UnixNanoseconds).Order().SequenceEqual(times.Select(t => t.UnixNanoseconds)), string.Join(", ", times));
    }

    private static ChildProcess StartSidecar(CloudRunStack stack, V1Container container, string socket, string? adminAddress)
    {
        var args = container.Args.Select(arg => arg switch
        {
            _ when arg.StartsWith("--socket=", StringComparison.Ordinal) => "--socket=" + socket,
            _ when adminAddress is not null && arg.StartsWith("--admin-address=", StringComparison.Ordinal) => "--admin-address=" + adminAddress,
            _ => arg,
        }).ToList();
        var environment = (container.Env ?? []).ToDictionary(e => e.Name, e => e.Value);
        environment["GCE_METADATA_HOST"] = stack.Metadata.HostAndPort;
        environment["TOKEN_INJECTOR_RESOLVE"] = $"{CloudRunStack.ServiceHost}:{stack.CloudRun.Port}:127.0.0.1";
        environment["TOKEN_INJECTOR_UPSTREAM_CA_FILE"] = stack.CaFile;
        return ChildProcess.StartAssembly("injector.dll", args, environment);
    }

    // What the kubelet does with a startup probe: GET the path on the port it names, until a 2xx.
    private static async Task StartupProbePassesAsync(V1Probe probe, ChildProcess sidecar)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(probe.TimeoutSeconds ?? 1) };
        var url = $"http://127.0.0.1:{probe.HttpGet.Port.Value}{probe.HttpGet.Path}";
        var passed = await TestWait.PollAsync(
            async () =>
            {
                try
                {
                    using var response = await client.GetAsync(url);
                    return response.IsSuccessStatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            },
            TimeSpan.FromMilliseconds(50));
        Assert.True(passed, $"the startup probe {url} never passed:\n{sidecar.Output}");
    }

    // One of the pod's own containers: a shell that writes when it started, fetches a token with `injector token`
    // (which reads the socket from the TOKEN_INJECTOR_SOCKET the webhook injected), and writes when it had it.
    private static async Task<IEnumerable<(string, string, long)>> RunToCompletionAsync(V1Container container, string socket)
    {
        var environment = (container.Env ?? []).ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal(SidecarContract.SocketPath, environment.GetValueOrDefault(SidecarSettings.Options.Socket.EnvironmentVariable));
        Assert.Contains(container.VolumeMounts ?? [], m => m.Name == PodMutator.SocketVolume && m.MountPath == SidecarContract.SocketDirectory);
        environment[SidecarSettings.Options.Socket.EnvironmentVariable] = socket;

        var (exitCode, stdout, stderr) = await ChildProcess.RunAsync(
            "sh",
            ["-c", "echo started $(date +%s%N) && \"$0\" \"$1\" token --audience \"$2\" && echo token $(date +%s%N)",
             Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", Path.Combine(AppContext.BaseDirectory, "injector.dll"), CloudRunStack.ServiceUrl],
            environment);

        Assert.True(exitCode == 0, $"{container.Name} failed: {stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The token as text: a JWT for the service (its claims are read, the token is never printed).
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(lines[1].Split('.')[1]))!;
        Assert.Equal(CloudRunStack.ServiceUrl, (string?)claims["aud"]);
        return [Event(container.Name, lines[0]), Event(container.Name, lines[2])];
    }

    private static (string, string, long) Event(string container, string line)
    {
        var parts = line.Split(' ');
        return (container, parts[0], long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static long UnixNanoseconds() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
}
