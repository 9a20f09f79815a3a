using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// <c>injector webhook</c> run as a process the way the rendered Deployment runs it: its arguments, the TLS Secret's
/// files where the pod mounts them, its namespace in POD_NAMESPACE.
/// </summary>
internal sealed class RenderedWebhook : IAsyncDisposable
{
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

    /// <summary>Starts the webhook with <paramref name="args"/> (default: the rendered ones); null, with what it printed, when it exits instead of listening.</summary>
    public static async Task<(RenderedWebhook? Webhook, string Output)> StartAsync(Rendering rendering, IReadOnlyList<string>? args = null)
    {
        var mount = new TempDirectory();
        var mountPath = rendering.WebhookContainer["volumeMounts"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "tls")!["mountPath"]!.GetValue<string>();
        foreach (var (name, data) in rendering.Single("Secret")["data"]!.AsObject())
        {
            await File.WriteAllBytesAsync(mount.File(name), Convert.FromBase64String(data!.GetValue<string>()));
        }

        var rewritten = (args ?? rendering.WebhookArgs).Select(a => a.Replace(mountPath + "/", mount.Path + "/", StringComparison.Ordinal)).ToList();
        var listen = rewritten.Single(a => a.StartsWith("--listen=", StringComparison.Ordinal));
        var port = int.Parse(listen[(listen.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var process = ChildProcess.StartAssembly("injector.dll", ["webhook", .. rewritten], new Dictionary<string, string> { ["POD_NAMESPACE"] = Helm.Namespace });
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
        authority.ImportFromPem(Encoding.ASCII.GetString(Convert.FromBase64String(rendering.Single("Secret")["data"]!["ca.crt"]!.GetValue<string>())));
        using var client = LoopbackHttps.Client(authority, TestWait.Limit, Port);
        using var content = Webhook.RunningWebhook.ReviewContent(pod, uid);
        using var response = await client.PostAsync($"https://{Rendering.Name(rendering.Single("Service"))}.{Helm.Namespace}.svc/mutate", content);
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
