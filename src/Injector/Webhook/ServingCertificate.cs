using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Webhook;

/// <summary>
/// The one place that holds the certificate the listener serves now, whichever source feeds it (files,
/// <see cref="ReloadingCertificate"/>; or the Secret the webhook keeps, <see cref="SelfManagedCertificate"/>), and
/// that publishes its expiry as a metric. Until a source has given one, the listener serves a throwaway certificate
/// nobody trusts, so that the kubelet's probes still reach <c>/readyz</c> and hear why the webhook is not ready.
/// </summary>
internal sealed class ServingCertificate(WebhookMetrics metrics, TimeProvider time, ILogger<ServingCertificate> logger, IReadOnlyList<string> names)
{
    private readonly Lazy<X509Certificate2> _placeholder = new(() => CertificateIssuer.Placeholder(time.GetUtcNow(), names));
    private volatile X509Certificate2? _served;

    /// <summary>The certificate for the next handshake.</summary>
    public X509Certificate2 Current => _served ?? _placeholder.Value;

    /// <summary>The real certificate being served, or null before the first one.</summary>
    public X509Certificate2? Served => _served;

    /// <summary>The throwaway certificate served before a real one (for tests, which pin it to read /readyz).</summary>
    public X509Certificate2 Placeholder => _placeholder.Value;

    /// <summary>A certificate with its key from PEM, in a form SslStream can use on every platform.</summary>
    public static X509Certificate2 Load(PemPair pem)
    {
        using var loaded = X509Certificate2.CreateFromPem(pem.CertificatePem, pem.KeyPem);
        return X509CertificateLoader.LoadPkcs12(loaded.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Serves <paramref name="certificate"/> from the next handshake on (a certificate already served is not swapped).</summary>
    public void Serve(X509Certificate2 certificate)
    {
        if (_served?.Thumbprint == certificate.Thumbprint)
        {
            certificate.Dispose();
            return;
        }

        // The previous certificate is not disposed: a handshake in flight may still be using it.
        _served = certificate;
        metrics.CertificateExpiry.Set(new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeSeconds());
        logger.CertificateReloaded(certificate);
    }
}
