using System.Net;
using k8s;
using k8s.Autorest;

namespace TokenInjector.Webhook;

/// <summary>Service account look-ups through KubernetesClient, with a kubeconfig file or the in-cluster config.</summary>
internal sealed class KubernetesServiceAccountLookup(IKubernetes client) : IServiceAccountLookup, IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public static KubernetesServiceAccountLookup Create(string? kubeconfigFile) => new(Connect(kubeconfigFile));

    /// <summary>A client of the API server from a kubeconfig file or the in-cluster config; throws when neither is there.</summary>
    public static IKubernetes Connect(string? kubeconfigFile)
    {
        var config = kubeconfigFile is null
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfigFile);
        config.HttpClientTimeout = RequestTimeout;
        return new Kubernetes(config);
    }

    public async Task<IDictionary<string, string>?> GetAnnotationsAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        try
        {
            var account = await client.CoreV1.ReadNamespacedServiceAccountAsync(name, @namespace, cancellationToken: cancellationToken);
            return account.Metadata?.Annotations ?? new Dictionary<string, string>();
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public void Dispose() => client.Dispose();
}
