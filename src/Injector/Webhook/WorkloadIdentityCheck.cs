using System.Collections.Concurrent;

namespace TokenInjector.Webhook;

/// <summary>
/// Warns when a pod's Kubernetes service account is not bound to a Google service account, because then the
/// metadata server has no identity to mint ID tokens for and every token fetch fails. The check is advice, never a
/// gate: a look-up that fails or takes longer than the timeout admits the pod without a warning. Answers are cached
/// briefly because controllers create many pods with the same service account at once.
/// </summary>
internal sealed class WorkloadIdentityCheck(IServiceAccountLookup? lookup, TimeSpan timeout, TimeSpan cacheTtl, TimeProvider time, ILogger logger)
{
    public const string GcpServiceAccountAnnotation = "iam.gke.io/gcp-service-account";
    private const int MaxCachedAccounts = 1024;

    private readonly ConcurrentDictionary<(string Namespace, string Name), (string? Warning, DateTimeOffset Expires)> _cache = new();

    /// <summary>The warning for the pod's service account, or null when it is bound or could not be checked.</summary>
    public async Task<string?> WarningAsync(string @namespace, string? serviceAccountName, CancellationToken cancellationToken)
    {
        if (lookup is null)
        {
            return null;
        }

        var name = string.IsNullOrEmpty(serviceAccountName) ? "default" : serviceAccountName;
        var key = (@namespace, name);
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.Expires > now)
        {
            return cached.Warning;
        }

        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        IDictionary<string, string>? annotations;
        try
        {
            // WaitAsync bounds the wait even if the client ignores cancellation somewhere in its pipeline.
            annotations = await lookup.GetAnnotationsAsync(@namespace, name, linked.Token).WaitAsync(timeout, time, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = ex is OperationCanceledException or TimeoutException ? $"no answer within {timeout.TotalMilliseconds:0} ms" : ex.Message;
            logger.ServiceAccountLookupFailed(@namespace, name, reason);
            return null;
        }

        string? warning = null;
        if (annotations is not null
            && (!annotations.TryGetValue(GcpServiceAccountAnnotation, out var gsa) || string.IsNullOrWhiteSpace(gsa)))
        {
            warning = NoGoogleServiceAccount(@namespace, name);
        }

        if (_cache.Count >= MaxCachedAccounts)
        {
            _cache.Clear();
        }

        _cache[key] = (warning, now + cacheTtl);
        return warning;
    }

    /// <summary>
    /// The admission warning for a pod whose Kubernetes service account names no Google service account: the pod is
    /// admitted (the binding may come later), but its ID token requests will fail until the account is annotated.
    /// </summary>
    private static string NoGoogleServiceAccount(string @namespace, string name) =>
        $"token-injector: service account {@namespace}/{name} has no {GcpServiceAccountAnnotation} annotation, "
        + "so the metadata server gives the pod no ID tokens and its token requests will fail unless the sidecar impersonates a service account "
        + "for each of them (token-injector.dev/impersonate); else annotate it with the Google service account to use";
}
