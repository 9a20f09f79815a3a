using System.Text;
using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The chart's helm test pod, run for real: its command (kubectl 1.35) against an API server that sends the dry-run
/// pod through the rendered MutatingWebhookConfiguration to the real webhook, started with the rendered arguments and
/// certificate. It passes with the chart as rendered by default (the webhook keeps its own certificate and writes the
/// caBundle the API server then trusts) and with a Secret the user brings (a release in default, whose dry run goes to
/// kube-public), and fails when the caBundle, path, port or selector is wrong.
/// </summary>
public sealed class HelmTestPodTests : IAsyncLifetime
{
    private static readonly JsonNode WarmUpPod = JsonNode.Parse("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"warm-up","labels":{"token-injector.dev/inject":"true"},"annotations":{"token-injector.dev/audiences":"https://warm-up.a.run.app"}},"spec":{"containers":[{"name":"app","image":"app:1"}]}}""")!;

    private WebhookTestCertificates _certificates = null!;
    private Rendering _rendering = null!;
    private RenderedWebhook _webhook = null!;

    public async Task InitializeAsync()
    {
        _certificates = WebhookTestCertificates.Create();
        _rendering = await Helm.RenderAsync(ValueSets.Setting("webhook.port", FreePort.Next()));
        var (webhook, output) = await RenderedWebhook.StartAsync(_rendering);
        _webhook = webhook ?? throw new InvalidOperationException("the webhook did not start:\n" + output);

        // One admission first, without the API server's time limit: what these tests check is the configuration, and a
        // process's first request (JIT, TLS) can take longer than webhook.timeoutSeconds on a loaded machine.
        await _webhook.ReviewAsync(_rendering, WarmUpPod, "warm-up");
    }

    public async Task DisposeAsync()
    {
        await _webhook.DisposeAsync();
        _certificates.Dispose();
    }

    [Fact]
    public async Task HelmTest_PassesWhenTheApiServerAnswersWithTheInjectedSidecar()
    {
        var (exitCode, stdout, stderr, server) = await RunHelmTestAsync(_rendering, _webhook);

        Assert.True(exitCode == 0, $"kubectl failed: {stderr}\nrequests: {server}\nwebhook:\n{_webhook.Output}");
        Assert.Equal($"sidecar injected: {_rendering.WebhookArg("sidecar-image")}\n", stdout);
    }

    [Fact]
    public async Task HelmTest_PassesForAReleaseInTheNamespaceDefault()
    {
        var rendering = await Helm.RenderAsync(RenderedWebhook.Values(ValueSets.Setting("webhook.port", FreePort.Next())), @namespace: "default");
        var (webhook, output) = await RenderedWebhook.StartAsync(rendering);
        Assert.True(webhook is not null, "the webhook did not start:\n" + output);
        await using (webhook)
        {
            await webhook.ReviewAsync(rendering, WarmUpPod, "warm-up");

            var (exitCode, stdout, stderr, server) = await RunHelmTestAsync(rendering, webhook);

            Assert.True(exitCode == 0, $"kubectl failed: {stderr}\nrequests: {server}\nwebhook:\n{webhook.Output}");
            Assert.Contains("POST /api/v1/namespaces/kube-public/pods?", server, StringComparison.Ordinal);
            Assert.Equal($"sidecar injected: {rendering.WebhookArg("sidecar-image")}\n", stdout);
        }
    }

    public static TheoryData<string, string> Defects() => new()
    {
        // what is wrong, what kubectl then reports
        { "caBundle", "failed calling webhook \"inject.token-injector.dev\": The SSL connection could not be established" },
        { "path", "failed calling webhook \"inject.token-injector.dev\": the server answered 404" },
        { "port", "has no port 8443" },
        { "objectSelector", "map has no entry for key \"noTokenInjectorSidecarInTheAnswer\"" },
        { "namespaceSelector", "map has no entry for key \"noTokenInjectorSidecarInTheAnswer\"" },
    };

    [Theory]
    [MemberData(nameof(Defects))]
    public async Task HelmTest_FailsWhenTheMutatingWebhookConfigurationIsWrong(string defect, string reported)
    {
        var broken = Break(_rendering, defect);

        var (exitCode, _, stderr, server) = await RunHelmTestAsync(broken, _webhook);

        Assert.True(exitCode != 0, $"helm test passed with a wrong {defect}; requests: {server}");
        Assert.True(stderr.Contains(reported, StringComparison.Ordinal), $"kubectl did not report {reported}:\n{stderr}");
    }

    /// <summary>The rendering with one part of the webhook's configuration wrong, as a template bug would render it.</summary>
    private Rendering Break(Rendering rendering, string defect)
    {
        var objects = rendering.Objects.Select(o => o.DeepClone().AsObject()).ToList();
        var webhook = objects.Single(o => Rendering.Kind(o) == "MutatingWebhookConfiguration")["webhooks"]![0]!;
        var service = webhook["clientConfig"]!["service"]!;
        switch (defect)
        {
            case "caBundle":
                webhook["clientConfig"]!["caBundle"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(_certificates.AuthorityPem));
                break;
            case "path":
                service["path"] = "/inject";
                break;
            case "port":
                service["port"] = 8443L;
                break;
            case "objectSelector":
                webhook["objectSelector"] = JsonNode.Parse("""{"matchLabels":{"token-injector.dev/inject":"enabled"}}""");
                break;
            case "namespaceSelector":
                webhook["namespaceSelector"]!["matchExpressions"]![0]!["operator"] = "In";
                break;
        }

        return new Rendering(objects);
    }

    /// <summary>Runs the rendered test pod's command, with kubectl 1.35, its emptyDir mounts in a temp directory, and a kubeconfig standing in for the in-cluster one.</summary>
    private async Task<(int ExitCode, string Stdout, string Stderr, string Requests)> RunHelmTestAsync(Rendering rendering, RenderedWebhook webhook)
    {
        await using var server = await AdmissionApiServer.StartAsync(rendering, _certificates, webhook);
        using var mounts = new TempDirectory();
        var pod = rendering.Single("Pod");
        var container = pod["spec"]!["containers"]!.AsArray().Single()!;
        var rewrite = (container["volumeMounts"]?.AsArray() ?? []).Select(m => m!["mountPath"]!.GetValue<string>()).ToList();
        string Rewrite(string text) => rewrite.Aggregate(text, (t, mount) => t == mount || t.StartsWith(mount + "/", StringComparison.Ordinal) ? mounts.Path + t[mount.Length..] : t);

        var kubeconfig = mounts.File("kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, server.Kubeconfig(_certificates, Rendering.NamespaceOf(pod)!, pod["spec"]!["serviceAccountName"]!.GetValue<string>()));
        var environment = (container["env"]?.AsArray() ?? []).ToDictionary(e => e!["name"]!.GetValue<string>(), e => Rewrite(e!["value"]!.GetValue<string>()));
        environment["KUBECONFIG"] = kubeconfig;
        var command = container["command"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal("kubectl", command[0]);
        var args = command.Skip(1).Concat(container["args"]!.AsArray().Select(a => Rewrite(a!.GetValue<string>())));

        var (exitCode, stdout, stderr) = await ChildProcess.RunAsync(ChartTools.Kubectl, args, environment);
        return (exitCode, stdout, stderr, string.Join(", ", server.Requests));
    }
}
