using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using TokenInjector.Demo.Observing;
using TokenInjector.DevStack.Stack;
using TokenInjector.Emulators.Metadata;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;
using TokenInjector.Tests.Webhook;

namespace TokenInjector.Tests.Charts.Monitoring;

/// <summary>
/// Real processes producing every series the chart's alerts and dashboard read: a sidecar (short-lived tokens, so it
/// refreshes every few seconds) with a route that works, one whose audience Cloud Run rejects (401) and one to a closed
/// port (UNAVAILABLE), each called over gRPC; two sidecars whose metadata server is unreachable or answers 503; and the
/// webhook as the chart renders it, asked to mutate, deny and read a bad request. Traffic keeps
/// flowing until disposal, so rates and latency quantiles have data.
/// </summary>
internal sealed class MonitoredStack : IAsyncDisposable
{
    public const string SidecarNamespace = "orders";

    private readonly CancellationTokenSource _stopping = new();
    private readonly List<IDisposable> _owned = [];
    private Task _traffic = Task.CompletedTask;
    private MetadataEmulator? _failingMetadata;

    private MonitoredStack(CloudRunStack cloudRun, Rendering rendering)
    {
        CloudRun = cloudRun;
        Rendering = rendering;
    }

    public CloudRunStack CloudRun { get; }

    public Rendering Rendering { get; }

    public RenderedWebhook Webhook { get; private set; } = null!;

    /// <summary>The scrape targets: the pod name Prometheus labels each with, its admin (or webhook) endpoint, and whether it is the webhook.</summary>
    public List<(string Pod, string Address, bool IsWebhook)> Targets { get; } = [];

    public int FailingRoute { get; } = FreePort.Next();

    public int RejectedRoute { get; } = FreePort.Next();

    public static async Task<MonitoredStack> StartAsync()
    {
        var cloudRun = await CloudRunStack.StartAsync(tokenLifetime: TimeSpan.FromSeconds(12));
        var stack = new MonitoredStack(cloudRun, await Helm.RenderAsync(RenderedWebhook.Values(ValueSets.Setting("webhook.port", FreePort.Next()))));
        try
        {
            await stack.StartProcessesAsync();
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }

        return stack;
    }

    /// <summary>What the targets' /metrics pages hold now.</summary>
    public async Task<IReadOnlyList<(string Pod, bool IsWebhook, MetricSample Sample)>> ScrapeAsync()
    {
        using var client = WebhookClient();
        var samples = new List<(string, bool, MetricSample)>();
        foreach (var (pod, address, isWebhook) in Targets)
        {
            var text = await client.GetStringAsync(isWebhook ? $"https://{WebhookServerName}:{Webhook.Port}/metrics" : $"http://{address}/metrics").Bounded();
            samples.AddRange(PrometheusText.Parse(text).Select(s => (pod, isWebhook, s)));
        }

        return samples;
    }

    /// <summary>The webhook's CA, as the caBundle holds it.</summary>
    public string WebhookCaPem => Webhook.CaBundlePem(Rendering);

    /// <summary>The name the webhook's certificate is for: its Service's DNS name.</summary>
    public string WebhookServerName => $"{Rendering.Name(Rendering.Single("Service"))}.{Helm.Namespace}.svc";

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _traffic.ContinueWith(_ => { }, TaskScheduler.Default);
        if (Webhook is not null)
        {
            await Webhook.DisposeAsync();
        }

        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        if (_failingMetadata is not null)
        {
            await _failingMetadata.DisposeAsync();
        }

        await CloudRun.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task StartProcessesAsync()
    {
        var closed = FreePort.Next();
        var sidecar = await SidecarProcess.StartAsync(CloudRun.Sidecar(
        [
            .. CloudRun.RouteArgs(),
            "--route", $"{RejectedRoute}=https://{CloudRunStack.ServiceHost}:{CloudRun.CloudRun.Port}=https://not-this-service.example",
            "--route", $"{FailingRoute}=https://{CloudRunStack.ServiceHost}:{closed}",
            "--resolve", $"{CloudRunStack.ServiceHost}:{closed}:127.0.0.1",
        ]), TestWait.Limit);
        _owned.Add(sidecar);
        Targets.Add(("orders-7c9d8-sidecar", sidecar.Admin.ToString(), false));

        // Two sidecars that never get a token: no metadata server at all (unreachable), and one that answers 503 (server_error).
        _failingMetadata = await MetadataEmulator.StartAsync(new MetadataEmulatorOptions { StartupWindow = TimeSpan.FromDays(1), StartupFailure = StartupFailure.Unavailable });
        foreach (var (pod, metadataHost) in new[] { ("orders-5b6f4-lost", $"127.0.0.1:{FreePort.Next()}"), ("orders-8e2a1-refused", _failingMetadata.HostAndPort) })
        {
            var admin = FreePort.Next();
            // The admin port is chosen here, for the scrape targets: the arguments place both listeners.
            _owned.Add(SidecarProcess.Launch(new SidecarLaunch(
                TestPrograms.Injector,
                ["--socket", CloudRun.Directory.File(pod + ".sock"), "--admin-address", $"127.0.0.1:{admin}", "--audience", CloudRunStack.ServiceUrl])
            {
                MetadataHost = metadataHost,
            }));
            Targets.Add((pod, $"127.0.0.1:{admin}", false));
            var failed = await TestWait.PollAsync(async () => (await MetricsOrEmptyAsync(admin)).Contains("token_injector_token_fetch_errors_total{", StringComparison.Ordinal), TimeSpan.FromMilliseconds(100));
            Assert.True(failed, $"{pod} counted no failed token fetch");
        }

        var (webhook, output) = await RenderedWebhook.StartAsync(Rendering);
        Webhook = webhook ?? throw new InvalidOperationException("the webhook did not start:\n" + output);
        Targets.Add(("ti-token-injector-webhook-6d5f7", $"127.0.0.1:{Webhook.Port}", true));

        await TrafficOnceAsync(sidecar);
        _traffic = Task.Run(async () =>
        {
            while (!_stopping.IsCancellationRequested)
            {
                await TrafficOnceAsync(sidecar);
                await Task.Delay(TimeSpan.FromMilliseconds(250), _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });
    }

    private static async Task<string> MetricsOrEmptyAsync(int adminPort)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return await client.GetStringAsync($"http://127.0.0.1:{adminPort}/metrics");
        }
        catch (HttpRequestException)
        {
            return string.Empty;
        }
    }

    /// <summary>One round of everything that moves a counter: each route, the token socket, each admission result.</summary>
    private async Task TrafficOnceAsync(SidecarProcess sidecar)
    {
        foreach (var port in new[] { CloudRun.RoutePort, RejectedRoute, FailingRoute })
        {
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
            try
            {
                await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "monitored" }, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: _stopping.Token);
            }
            catch (RpcException ex) when (ex.StatusCode is not StatusCode.Cancelled)
            {
                // The rejected and failing routes answer with errors: that is what their series count.
            }
        }

        using var token = await sidecar.GetTokenAsync(CloudRunStack.ServiceUrl);
        using var client = WebhookClient();
        var pod = JsonNode.Parse("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"orders-","labels":{"token-injector.dev/inject":"true"},
             "annotations":{"token-injector.dev/routes":"8080=https://orders-abc123-uc.a.run.app"}},
             "spec":{"containers":[{"name":"app","image":"orders:1"}]}}
            """)!;
        var badPod = pod.DeepClone();
        badPod["metadata"]!["annotations"]!["token-injector.dev/routes"] = "8080=orders.a.run.app";
        var uri = $"https://{WebhookServerName}:{Webhook.Port}/mutate";
        foreach (var content in new HttpContent[]
        {
            RunningWebhook.ReviewContent(pod, Guid.NewGuid().ToString(), SidecarNamespace),
            RunningWebhook.ReviewContent(badPod, Guid.NewGuid().ToString(), SidecarNamespace),
            new StringContent("{\"kind\":", Encoding.UTF8, "application/json"),
        })
        {
            using (content)
            {
                using var _ = await client.PostAsync(uri, content, _stopping.Token);
            }
        }
    }

    /// <summary>A client that reaches the webhook by its Service name, trusting its CA (and the sidecars over plain HTTP).</summary>
    private HttpClient WebhookClient() => LoopbackHttps.Client([X509Certificate2.CreateFromPem(WebhookCaPem)], TimeSpan.FromSeconds(10));
}
