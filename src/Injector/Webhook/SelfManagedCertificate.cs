using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;

namespace TokenInjector.Webhook;

/// <summary>
/// The certificate the webhook keeps itself (<c>--tls-secret</c>). Every replica runs this loop, once per poll
/// interval, with GET and PUT only (so the RBAC can name each object): read the Secret, or create it when missing (a
/// replica that loses the race reads the winner's: one CA); serve its certificate; write its CA bundle into the
/// caBundle of every entry of the named webhook configurations (that field alone, optimistic on resourceVersion); take
/// the next rotation step when one is due (<see cref="CertificateRotation"/>). A Secret that is not ours or does not
/// load, and a configuration that is missing or calls someone else, are never written: they are reported by
/// <see cref="NotReadyReason"/> and logged. The API server being away is retried with a short backoff.
/// </summary>
internal sealed class SelfManagedCertificate(
    SelfManagedCertificateOptions options,
    Func<IKubernetes> connect,
    ServingCertificate serving,
    TimeProvider time,
    ILogger<SelfManagedCertificate> logger) : BackgroundService
{
    private const string Mutating = "MutatingWebhookConfiguration";
    private const string Validating = "ValidatingWebhookConfiguration";
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);

    private IKubernetes? _client;
    private string? _servedPem;
    private volatile string? _notReady = "no certificate yet: the Secret has not been read";
    private long _rounds;

    /// <summary>Why the webhook cannot take admissions yet (for /readyz), or null once it serves a certificate the caBundle trusts.</summary>
    public string? NotReadyReason => _notReady;

    /// <summary>How many rounds have ended (tests wait on it).</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    private string SecretName => $"{options.Namespace}/{options.SecretName}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            string? problem;
            var unavailable = false;
            try
            {
                problem = await RoundAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                (problem, unavailable) = Describe(ex);
            }

            Report(problem);
            failures = unavailable ? failures + 1 : 0;
            Interlocked.Increment(ref _rounds);
            // A start with the API server away retries soon, then every interval: never a crash loop.
            var delay = unavailable ? TimeSpan.FromTicks(Math.Min(options.PollInterval.Ticks, FirstRetry.Ticks << Math.Min(failures - 1, 16))) : options.PollInterval;
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static (string Problem, bool Unavailable) Describe(Exception ex) => ex switch
    {
        HttpOperationException { Response.StatusCode: HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized } failed =>
            ($"the API server refused a request ({(int)failed.Response.StatusCode}): check the webhook's RBAC (secrets get, update, create; webhook configurations get, update)", false),
        HttpOperationException { Response.StatusCode: >= HttpStatusCode.InternalServerError } failed =>
            ($"API server unavailable (answered {(int)failed.Response.StatusCode})", true),
        HttpOperationException failed => ($"the API server answered {(int)failed.Response.StatusCode}: {failed.Message}", false),
        HttpRequestException or IOException or TaskCanceledException or TimeoutException => ($"API server unreachable: {ex.Message}", true),
        KubeConfigException or KubernetesClientException => ($"no Kubernetes API access: {ex.Message}", true),
        // A fault of this code, not of the cluster: said, and tried again next round rather than taking the webhook down.
        _ => ($"unexpected {ex.GetType().Name}: {ex.Message}", true),
    };

    private static bool Is(Exception ex, HttpStatusCode code) => ex is HttpOperationException failed && failed.Response.StatusCode == code;

    private void Report(string? problem)
    {
        if (problem == _notReady)
        {
            return;
        }

        _notReady = problem;
        if (problem is null)
        {
            logger.CertificateKeeperReady(options.Namespace, options.SecretName);
        }
        else
        {
            logger.CertificateKeeperNotReady(problem);
        }
    }

    /// <summary>One pass; the reason the webhook is not ready, or null.</summary>
    private async Task<string?> RoundAsync(CancellationToken cancellationToken)
    {
        var client = _client ??= connect();
        var secret = await ReadSecretAsync(client, cancellationToken) ?? await CreateSecretAsync(client, cancellationToken);
        if (secret is null)
        {
            return $"no certificate yet: Secret {SecretName} was created by another replica and is gone again";
        }

        if (!CertificateSecret.IsOurs(secret))
        {
            return $"Secret {SecretName} is not the webhook's (it lacks the label {CertificateSecret.OwnerLabel}={CertificateSecret.OwnerValue}) and is left alone: delete it, or name another with --tls-secret";
        }

        if (!CertificateSecret.TryParse(secret, out var state, out var problem))
        {
            return $"Secret {SecretName} is unreadable: it {problem}; it is left alone: delete it and the webhook makes a new one";
        }

        Serve(state!);
        var configurations = new List<Configuration>();
        foreach (var (kind, name) in new[] { (Mutating, options.MutatingWebhookConfiguration), (Validating, options.ValidatingWebhookConfiguration) })
        {
            if (name is null)
            {
                continue;
            }

            var configuration = await ReadConfigurationAsync(client, kind, name, cancellationToken);
            if (configuration is null)
            {
                return $"{kind} {name} not found: install it (the chart does) or correct --{(kind == Mutating ? "mutating" : "validating")}-webhook-configuration";
            }

            if (configuration.Foreign() is { } foreign)
            {
                return $"{kind} {name} is not the webhook's ({foreign}): its caBundle is left alone";
            }

            configurations.Add(configuration);
        }

        await WriteBundleAsync(configurations, state!.Bundle, cancellationToken);
        var now = time.GetUtcNow();
        var step = CertificateRotation.Next(state, options, now, configurations.All(c => c.Holds(state.Bundle)));
        if (step is { } due)
        {
            try
            {
                await client.CoreV1.ReplaceNamespacedSecretAsync(due.Next.ToSecret(options.SecretName, options.Namespace, secret), options.SecretName, options.Namespace, cancellationToken: cancellationToken);
                logger.RotationStep(options.Namespace, options.SecretName, due.Step);
                state = due.Next;
                Serve(state);
                await WriteBundleAsync(configurations, state.Bundle, cancellationToken);
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // Another replica took a step first: read its Secret next round.
                logger.UpdateConflict("Secret", SecretName);
            }
        }

        using var served = X509Certificate2.CreateFromPem(state.Serving.CertificatePem);
        return configurations.FirstOrDefault(c => !c.Trusts(served, now)) is { } behind
            ? $"the caBundle of {behind.Kind} {behind.Name} does not trust the served certificate yet"
            : null;
    }

    private void Serve(CertificateSecret state)
    {
        if (_servedPem != state.Serving.CertificatePem)
        {
            serving.Serve(ServingCertificate.Load(state.Serving));
            _servedPem = state.Serving.CertificatePem;
        }
    }

    private async Task<V1Secret?> ReadSecretAsync(IKubernetes client, CancellationToken cancellationToken)
    {
        try
        {
            return await client.CoreV1.ReadNamespacedSecretAsync(options.SecretName, options.Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException ex) when (Is(ex, HttpStatusCode.NotFound))
        {
            return null;
        }
    }

    private async Task<V1Secret?> CreateSecretAsync(IKubernetes client, CancellationToken cancellationToken)
    {
        var created = CertificateSecret.Create(options, time.GetUtcNow());
        try
        {
            var secret = await client.CoreV1.CreateNamespacedSecretAsync(created.ToSecret(options.SecretName, options.Namespace), options.Namespace, cancellationToken: cancellationToken);
            logger.SecretCreated(options.Namespace, options.SecretName);
            return secret;
        }
        catch (HttpOperationException ex) when (Is(ex, HttpStatusCode.Conflict))
        {
            // Another replica created it first: serve the winner's, so that every replica has the same CA.
            logger.SecretCreatedByAnother(options.Namespace, options.SecretName);
            return await ReadSecretAsync(client, cancellationToken);
        }
    }

    private async Task<Configuration?> ReadConfigurationAsync(IKubernetes client, string kind, string name, CancellationToken cancellationToken)
    {
        try
        {
            if (kind == Mutating)
            {
                var mutating = await client.AdmissionregistrationV1.ReadMutatingWebhookConfigurationAsync(name, cancellationToken: cancellationToken);
                return new Configuration(
                    kind,
                    name,
                    mutating.Webhooks?.Select(w => (w.Name, w.ClientConfig)).ToList() ?? [],
                    async c => mutating.Metadata.ResourceVersion =
                        (await client.AdmissionregistrationV1.ReplaceMutatingWebhookConfigurationAsync(mutating, name, cancellationToken: c)).Metadata.ResourceVersion,
                    options.Namespace);
            }

            var validating = await client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync(name, cancellationToken: cancellationToken);
            return new Configuration(
                kind,
                name,
                validating.Webhooks?.Select(w => (w.Name, w.ClientConfig)).ToList() ?? [],
                async c => validating.Metadata.ResourceVersion =
                    (await client.AdmissionregistrationV1.ReplaceValidatingWebhookConfigurationAsync(validating, name, cancellationToken: c)).Metadata.ResourceVersion,
                options.Namespace);
        }
        catch (HttpOperationException ex) when (Is(ex, HttpStatusCode.NotFound))
        {
            return null;
        }
    }

    private async Task WriteBundleAsync(List<Configuration> configurations, string bundle, CancellationToken cancellationToken)
    {
        foreach (var configuration in configurations.Where(c => !c.Holds(bundle)))
        {
            var bytes = Encoding.ASCII.GetBytes(bundle);
            var held = configuration.Entries.Select(entry => entry.ClientConfig.CaBundle).ToList();
            foreach (var (_, clientConfig) in configuration.Entries)
            {
                clientConfig.CaBundle = bytes;
            }

            try
            {
                await configuration.ReplaceAsync(cancellationToken);
                logger.CaBundleWritten(configuration.Kind, configuration.Name, configuration.Entries.Count);
            }
            catch (Exception ex)
            {
                // Not written: the copy goes back to what the API server holds, which the rotation and readiness judge by.
                for (var i = 0; i < held.Count; i++)
                {
                    configuration.Entries[i].ClientConfig.CaBundle = held[i];
                }

                if (!Is(ex, HttpStatusCode.Conflict))
                {
                    throw;
                }

                logger.UpdateConflict(configuration.Kind, configuration.Name);
            }
        }
    }

    /// <summary>A webhook configuration as read: its entries' client configs (changed in place) and how to write it back.</summary>
    private sealed record Configuration(
        string Kind,
        string Name,
        IReadOnlyList<(string Name, Admissionregistrationv1WebhookClientConfig ClientConfig)> Entries,
        Func<CancellationToken, Task> ReplaceAsync,
        string OwnNamespace)
    {
        /// <summary>
        /// Why the configuration is not ours, or null: ours has entries, and every one calls a Service in the webhook's
        /// own namespace (never a URL), so a caBundle written here trusts only what the webhook serves.
        /// </summary>
        public string? Foreign()
        {
            if (Entries.Count == 0)
            {
                return "it has no webhooks";
            }

            foreach (var (name, clientConfig) in Entries)
            {
                if (clientConfig?.Service is not { } service)
                {
                    return $"entry {name} calls a URL, not a Service";
                }

                if (service.NamespaceProperty != OwnNamespace)
                {
                    return $"entry {name} calls Service {service.NamespaceProperty}/{service.Name}, outside the webhook's namespace {OwnNamespace}";
                }
            }

            return null;
        }

        public bool Holds(string bundle) =>
            Entries.All(entry => entry.ClientConfig.CaBundle is { } held && held.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(bundle)));

        /// <summary>True when every entry's caBundle verifies <paramref name="served"/>, as the API server will.</summary>
        public bool Trusts(X509Certificate2 served, DateTimeOffset now) => Entries.All(entry =>
        {
            if (entry.ClientConfig.CaBundle is not { Length: > 0 } held)
            {
                return false;
            }

            var authorities = new X509Certificate2Collection();
            try
            {
                authorities.ImportFromPem(Encoding.ASCII.GetString(held));
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.VerificationTime = now.UtcDateTime;
                return chain.Build(served);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                return false;
            }
            finally
            {
                foreach (var authority in authorities)
                {
                    authority.Dispose();
                }
            }
        });
    }
}
