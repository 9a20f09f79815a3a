using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TokenInjector.DevStack.Certificates;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// <c>injector webhook</c> run as a process the way the rendered Deployment runs it: its arguments, the TLS Secret's
/// files where the pod mounts them, the rendering's namespace in POD_NAMESPACE. The chart is rendered with the certificate from a
/// Secret the user brings (<see cref="BroughtSecret"/>): the files are issued here for the rendered Service, by a CA
/// whose PEM is the rendered caBundle.
/// </summary>
internal sealed class RenderedWebhook : IAsyncDisposable
{
    /// <summary>The CA of the brought Secret, one per test run (the renders are cached by their values).</summary>
    private static readonly DevCertificateAuthority Authority = DevCertificateAuthority.Create("token-injector chart tests CA");

    private readonly ChildProcess _process;
    private readonly TempDirectory _mount;

    private RenderedWebhook(ChildProcess process, TempDirectory mount, int port)
    {
        _process = process;
        _mount = mount;
        Port = port;
    }

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

    /// <summary>The CA the API server trusts for the webhook: the caBundle of the rendered MutatingWebhookConfiguration, as PEM.</summary>
    public static string CaBundlePem(Rendering rendering) => Encoding.ASCII.GetString(Convert.FromBase64String(
        rendering.Single("MutatingWebhookConfiguration")["webhooks"]![0]!["clientConfig"]!["caBundle"]!.GetValue<string>()));

    /// <summary>Starts the webhook with <paramref name="args"/> (default: the rendered ones); null, with what it printed, when it exits instead of listening.</summary>
    public static async Task<(RenderedWebhook? Webhook, string Output)> StartAsync(Rendering rendering, IReadOnlyList<string>? args = null)
    {
        var mount = new TempDirectory();
        var mountPath = rendering.WebhookContainer["volumeMounts"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "tls")!["mountPath"]!.GetValue<string>();
        var @namespace = Rendering.NamespaceOf(rendering.Single("Deployment"))!;
        var service = $"{Rendering.Name(rendering.Single("Service"))}.{@namespace}";
        using (var serving = Authority.IssueServerCertificate(service + ".svc", [service + ".svc", service + ".svc.cluster.local"]))
        {
            DevCertificateAuthority.WritePemFiles(serving, mount.File("tls.crt"), mount.File("tls.key"));
        }

        await File.WriteAllTextAsync(mount.File("ca.crt"), Authority.CertificatePem);

        var rewritten = (args ?? rendering.WebhookArgs).Select(a => a.Replace(mountPath + "/", mount.Path + "/", StringComparison.Ordinal)).ToList();
        var listen = rewritten.Single(a => a.StartsWith("--listen=", StringComparison.Ordinal));
        var port = int.Parse(listen[(listen.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var process = ChildProcess.StartAssembly("injector.dll", ["webhook", .. rewritten], new Dictionary<string, string> { ["POD_NAMESPACE"] = @namespace });
        var settled = await TestWait.PollAsync(async () => process.HasExited || await AcceptsAsync(port), TimeSpan.FromMilliseconds(50));
        Assert.True(settled, "the webhook neither listened nor exited:\n" + process.Output);
        if (!process.HasExited)
        {
            return (new RenderedWebhook(process, mount, port), process.Output);
        }

        await process.WaitForExitAsync();
        var output = $"exit code {process.ExitCode}\n{process.Output}";
        process.Dispose();
        mount.Dispose();
        return (null, output);
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
        _mount.Dispose();
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
