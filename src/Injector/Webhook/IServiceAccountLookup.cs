namespace TokenInjector.Webhook;

/// <summary>Reads a Kubernetes service account's annotations; the seam between the webhook and the Kubernetes API.</summary>
internal interface IServiceAccountLookup
{
    /// <summary>The annotations of the service account, or null when it does not exist.</summary>
    Task<IDictionary<string, string>?> GetAnnotationsAsync(string @namespace, string name, CancellationToken cancellationToken);
}
