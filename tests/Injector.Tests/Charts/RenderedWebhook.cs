using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TokenInjector.DevStack.Certificates;
using TokenInjector.DevStack.Kubernetes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// <c>injector webhook</c> run as a process the way the rendered Deployment runs it: its arguments, the TLS Secret's
/// files where the pod mounts them, the rendering's namespace in POD_NAMESPACE. The chart is rendered with the certificate from a
/// Secret the user brings (<see cref="BroughtSecret"/>): the files are issued here for the rendered Service, by a CA
/// whose PEM is the rendered caBundle. Rendered with the default certificate.mode=selfManaged, there is no volume: the
/// webhook keeps its Secret and writes the caBundle through <see cref="Cluster"/>, an API server stand-in that holds
/// the rendered webhook configurations as Helm installs them and refuses (403) what the rendered RBAC does not allow
/// the webhook's service account; the webhook is ready when the Secret exists and every entry's caBundle is filled.
/// </summary>
internal sealed class RenderedWebhook : IAsyncDisposable
{
    /// <summary>The CA of the brought Secret, one per test run (the renders are cached by their values).</summary>
    private static readonly DevCertificateAuthority Authority = DevCertificateAuthority.Create("token-injector chart tests CA");

    private readonly ChildProcess _process;
    private readonly TempDirectory _mount;

    private RenderedWebhook(ChildProcess process, TempDirectory mount, int port, FakeApiServer? cluster)
    {
        _process = process;
        _mount = mount;
        Port = port;
        Cluster = cluster;
    }

    /// <summary>The API server stand-in the webhook keeps its certificate in (certificate.mode=selfManaged); null for files.</summary>
    public FakeApiServer? Cluster { get; }

    /// <summary>The port the webhook listens on, on every address.</summary>
    public int Port { get; }

    public string Output => _process.Output;

    /// <summary>The values of certificate.mode=secret: a Secret that the files below stand for, and its CA as the caBundle.</summary>
    public static JsonObject BroughtSecret { get; } = ValueSets.Setting("certificate", new JsonObject
    {
        ["mode"] = "secret",
        ["existingSecret"] = "webhook-serving",
        ["caBundle"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(Authority.CertificatePem)),
    });

    /// <summary><see cref="BroughtSecret"/> with <paramref name="values"/> on top.</summary>
    public static JsonObject Values(JsonObject values) => ValueSets.Merge(BroughtSecret, values);

    /// <summary>
    /// The CA the API server trusts for the webhook, as PEM: the caBundle of the MutatingWebhookConfiguration's first
    /// entry, as rendered, or as the webhook wrote it in <see cref="Cluster"/> when the rendering has none.
    /// </summary>
    public string CaBundlePem(Rendering rendering)
    {
        var configuration = rendering.Single("MutatingWebhookConfiguration");
        var entry = configuration["webhooks"]![0]!;
        return entry["clientConfig"]!["caBundle"]?.GetValue<string>() is { } rendered
            ? Encoding.ASCII.GetString(Convert.FromBase64String(rendered))
            : LiveCaBundle("MutatingWebhookConfiguration", Rendering.Name(configuration), entry["name"]!.GetValue<string>());
    }

    /// <summary>The caBundle (PEM; "" when none) of entry <paramref name="entry"/> of the live configuration of <paramref name="kind"/> and <paramref name="name"/>.</summary>
    public string LiveCaBundle(string kind, string name, string entry)
    {
        var webhooks = Cluster?.Get(Resource(kind), string.Empty, name)?["webhooks"]?.AsArray() ?? [];
        var bundle = (string?)webhooks.SingleOrDefault(w => (string?)w?["name"] == entry)?["clientConfig"]?["caBundle"];
        return bundle is null ? string.Empty : Encoding.ASCII.GetString(Convert.FromBase64String(bundle));
    }

    /// <summary>The webhook configurations of <paramref name="rendering"/>, as (resource, name, entry names).</summary>
    public static IEnumerable<(string Resource, string Name, IReadOnlyList<string> Entries)> Configurations(Rendering rendering) =>
        rendering.OfKind("MutatingWebhookConfiguration").Concat(rendering.OfKind("ValidatingWebhookConfiguration"))
            .Select(c => (Resource(Rendering.Kind(c)), Rendering.Name(c), (IReadOnlyList<string>)c["webhooks"]!.AsArray().Select(w => w!["name"]!.GetValue<string>()).ToList()));

    /// <summary>True when the Secret named by <c>--tls-secret</c> exists and every entry of every configuration has a caBundle.</summary>
    public bool Certified(Rendering rendering) =>
        Cluster is { } cluster
        && cluster.Get("secrets", Rendering.NamespaceOf(rendering.Single("Deployment"))!, rendering.WebhookArg("tls-secret")) is not null
        && Configurations(rendering).All(c => cluster.CaBundles(c.Resource, c.Name) is { Count: > 0 } bundles && bundles.All(b => b.Length > 0));

    /// <summary>
    /// Starts the webhook with <paramref name="args"/> (default: the rendered ones); null, with what it printed, when it
    /// exits instead of listening (selfManaged: instead of keeping its certificate, unless <paramref name="untilCertified"/> is false).
    /// </summary>
    public static async Task<(RenderedWebhook? Webhook, string Output)> StartAsync(Rendering rendering, IReadOnlyList<string>? args = null, bool untilCertified = true)
    {
        var mount = new TempDirectory();
        var @namespace = Rendering.NamespaceOf(rendering.Single("Deployment"))!;
        var rewritten = (args ?? rendering.WebhookArgs).ToList();
        FakeApiServer? cluster = null;
        if (rendering.WebhookContainer["volumeMounts"]?.AsArray().SingleOrDefault(m => m!["name"]!.GetValue<string>() == "tls") is { } tls)
        {
            var mountPath = tls["mountPath"]!.GetValue<string>();
            var service = $"{Rendering.Name(rendering.Single("Service"))}.{@namespace}";
            using (var serving = Authority.IssueServerCertificate(service + ".svc", [service + ".svc", service + ".svc.cluster.local"]))
            {
                DevCertificateAuthority.WritePemFiles(serving, mount.File("tls.crt"), mount.File("tls.key"));
            }

            await File.WriteAllTextAsync(mount.File("ca.crt"), Authority.CertificatePem);
            rewritten = rewritten.Select(a => a.Replace(mountPath + "/", mount.Path + "/", StringComparison.Ordinal)).ToList();
        }
        else
        {
            cluster = await StartClusterAsync(rendering, @namespace, mount.Path);
            rewritten.Add("--kubeconfig=" + cluster.KubeconfigFile);
        }

        var listen = rewritten.Single(a => a.StartsWith("--listen=", StringComparison.Ordinal));
        var port = int.Parse(listen[(listen.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var process = ChildProcess.StartAssembly("injector.dll", ["webhook", .. rewritten], new Dictionary<string, string> { ["POD_NAMESPACE"] = @namespace });
        var webhook = new RenderedWebhook(process, mount, port, cluster);
        var settled = await TestWait.PollAsync(
            async () => process.HasExited || (await AcceptsAsync(port) && (!untilCertified || cluster is null || webhook.Certified(rendering))), TimeSpan.FromMilliseconds(50));
        Assert.True(settled, $"the webhook neither {(cluster is null ? "listened" : "kept its certificate")} nor exited:\n{process.Output}\n{cluster?.Requests} API requests");
        if (!process.HasExited)
        {
            return (webhook, process.Output);
        }

        await process.WaitForExitAsync();
        var output = $"exit code {process.ExitCode}\n{process.Output}";
        await webhook.DisposeAsync();
        return (null, output);
    }

    /// <summary>
    /// GETs <paramref name="path"/> by the rendered Service's name, trusting only <see cref="CaBundlePem"/>, as the
    /// API server (and, for /readyz, the kubelet, which does not verify) reaches the webhook.
    /// </summary>
    public async Task<HttpResponseMessage> GetAsync(Rendering rendering, string path)
    {
        var authority = new X509Certificate2Collection();
        authority.ImportFromPem(CaBundlePem(rendering));
        using var client = LoopbackHttps.Client(authority, TestWait.Limit, Port);
        var service = rendering.Single("Service");
        return await client.GetAsync($"https://{Rendering.Name(service)}.{Rendering.NamespaceOf(service)}.svc{path}");
    }

    /// <summary>
    /// Posts an AdmissionReview for <paramref name="pod"/> to the rendered Service's name, trusting only the rendered
    /// CA, without the API server's time limit, and returns the review's <c>response</c>.
    /// </summary>
    public async Task<JsonNode> ReviewAsync(Rendering rendering, JsonNode pod, string uid)
    {
        var authority = new X509Certificate2Collection();
        authority.ImportFromPem(CaBundlePem(rendering));
        using var client = LoopbackHttps.Client(authority, TestWait.Limit, Port);
        using var content = Webhook.RunningWebhook.ReviewContent(pod, uid);
        var service = rendering.Single("Service");
        using var response = await client.PostAsync($"https://{Rendering.Name(service)}.{Rendering.NamespaceOf(service)}.svc/mutate", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["response"]!;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await _process.TerminateAsync();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        _mount.Dispose();
    }

    private static string Resource(string kind) => kind.ToLowerInvariant() + "s";

    /// <summary>The stand-in holding the rendered webhook configurations, authorizing the webhook's service account by the rendered RBAC.</summary>
    private static async Task<FakeApiServer> StartClusterAsync(Rendering rendering, string @namespace, string directory)
    {
        var cluster = await FakeApiServer.StartAsync(Authority, directory);
        foreach (var (resource, name, _) in Configurations(rendering))
        {
            cluster.Put(resource, string.Empty, rendering.Single(resource == "mutatingwebhookconfigurations" ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration", name));
        }

        var account = rendering.Single("Deployment")["spec"]!["template"]!["spec"]!["serviceAccountName"]!.GetValue<string>();
        cluster.Authorize = (verb, resource, ns, name) => RenderedRbac.Allows(
            rendering, @namespace, account, verb, resource is "secrets" or "serviceaccounts" ? string.Empty : "admissionregistration.k8s.io", resource, ns, name);
        return cluster;
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        if (port > IPEndPoint.MaxPort)
        {
            return false;
        }

        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
