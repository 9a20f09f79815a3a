using System.Collections.Concurrent;
using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace TokenInjector.Tests.Support;

/// <summary>
/// Just enough of the Kubernetes API for service account reads, on HTTPS loopback with a certificate from the
/// test CA, reached by KubernetesClient through a generated kubeconfig file. <see cref="Hang"/> makes it accept
/// requests and never answer, as an overloaded API server does.
/// </summary>
internal sealed class FakeKubernetesApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();

    private FakeKubernetesApiServer(WebApplication app, string kubeconfigFile)
    {
        _app = app;
        KubeconfigFile = kubeconfigFile;
    }

    public ConcurrentDictionary<(string Namespace, string Name), V1ServiceAccount> ServiceAccounts { get; } = new();

    public bool Hang { get; set; }

    public int Requests => _requests;

    public string KubeconfigFile { get; }

    private int _requests;

    public static async Task<FakeKubernetesApiServer> StartAsync(WebhookTestCertificates certificates, CancellationToken cancellationToken)
    {
        var serving = certificates.Issue("fake-apiserver", ["localhost"], [IPAddress.Loopback]);
        var app = LoopbackWebApp.CreateBuilder(listen => listen.UseHttps(serving)).Build();
        var kubeconfig = Path.Combine(certificates.Directory, "kubeconfig-" + Guid.NewGuid().ToString("N")[..8]);
        var server = new FakeKubernetesApiServer(app, kubeconfig);
        app.MapGet("/api/v1/namespaces/{ns}/serviceaccounts/{name}", server.ServeAsync);
        var address = await LoopbackWebApp.StartAsync(app, cancellationToken);
        File.WriteAllText(kubeconfig, Kubeconfig(address, certificates.AuthorityPem));
        return server;
    }

    /// <summary>A kubeconfig naming a loopback port where nothing listens: connections are refused at once.</summary>
    public static string WriteUnreachableKubeconfig(WebhookTestCertificates certificates)
    {
        var port = FreePort.Next();
        var path = Path.Combine(certificates.Directory, "kubeconfig-down");
        File.WriteAllText(path, Kubeconfig($"https://127.0.0.1:{port}", certificates.AuthorityPem));
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    /// <summary>A kubeconfig for <paramref name="server"/>, trusting only <paramref name="authorityPem"/>, that sends <paramref name="token"/>.</summary>
    internal static string Kubeconfig(string server, string authorityPem, string token = "not-a-real-token") => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: fake
          cluster:
            server: {server}
            certificate-authority-data: {Convert.ToBase64String(Encoding.ASCII.GetBytes(authorityPem))}
        users:
        - name: webhook
          user:
            token: {token}
        contexts:
        - name: fake
          context:
            cluster: fake
            user: webhook
        current-context: fake
        """;

    private async Task ServeAsync(HttpContext context, string ns, string name)
    {
        Interlocked.Increment(ref _requests);
        if (Hang)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            await Task.Delay(Timeout.Infinite, both.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }

        context.Response.ContentType = "application/json";
        if (ServiceAccounts.TryGetValue((ns, name), out var account))
        {
            await context.Response.WriteAsync(KubernetesJson.Serialize(account), context.RequestAborted);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        await context.Response.WriteAsync(
            $$"""{"kind":"Status","apiVersion":"v1","status":"Failure","message":"serviceaccounts \"{{name}}\" not found","reason":"NotFound","code":404}""",
            context.RequestAborted);
    }
}
