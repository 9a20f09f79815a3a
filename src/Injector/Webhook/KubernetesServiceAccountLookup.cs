using System.Net;
using k8s;
using k8s.Autorest;

namespace TokenInjector.Webhook;

/// <summary>Service account look-ups through KubernetesClient, with a kubeconfig file or the in-cluster config.</summary>
internal sealed class KubernetesServiceAccountLookup(IKubernetes client) : IServiceAccountLookup, IDisposable
{
    public static KubernetesServiceAccountLookup Create(string? kubeconfigFile)
    {
        var config = kubeconfigFile is null
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfigFile);
        return new KubernetesServiceAccountLookup(new Kubernetes(config));
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
