using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Webhook;

/// <summary>A certificate and its private key, both PEM, as a Secret keeps them.</summary>
internal sealed record PemPair(string CertificatePem, string KeyPem);

/// <summary>
/// Makes the self-managed certificates with System.Security.Cryptography alone (EC P-256, no openssl, NativeAOT-safe):
/// a CA, and serving certificates it signs for the Service's DNS names. Both start a few minutes before "now", so a
/// node whose clock is a little behind still accepts them.
/// </summary>
internal static class CertificateIssuer
{
    private static readonly TimeSpan Backdated = TimeSpan.FromMinutes(5);

    public static PemPair CreateAuthority(DateTimeOffset now, TimeSpan lifetime)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // A name of its own per CA, so that a bundle holding two of them (during a rotation) tells them apart in logs.
        var request = new CertificateRequest($"CN=token-injector webhook CA {now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var certificate = request.CreateSelfSigned(Seconds(now - Backdated), Seconds(now + lifetime));
        return new PemPair(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A serving certificate for <paramref name="dnsNames"/>, never valid past its CA.</summary>
    public static PemPair IssueServing(PemPair authority, IReadOnlyList<string> dnsNames, DateTimeOffset now, TimeSpan lifetime)
    {
        using var caCertificate = X509Certificate2.CreateFromPem(authority.CertificatePem);
        using var caKey = ECDsa.Create();
        caKey.ImportFromPem(authority.KeyPem);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames[0]}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(caCertificate, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var notAfter = Seconds(now + lifetime) < caCertificate.NotAfter.ToUniversalTime() ? Seconds(now + lifetime) : new DateTimeOffset(caCertificate.NotAfter.ToUniversalTime());
        using var certificate = request.Create(
            caCertificate.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), Seconds(now - Backdated), notAfter, serial);
        return new PemPair(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>
    /// A self-signed certificate (with its key) for <paramref name="dnsNames"/> that nobody trusts: what the listener
    /// serves before it has a real one, so that the kubelet's probe of /readyz, which verifies nothing, hears why.
    /// </summary>
    public static X509Certificate2 Placeholder(DateTimeOffset now, IReadOnlyList<string> dnsNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=token-injector webhook (no certificate yet)", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }

        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(now - Backdated, now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    // X.509 keeps whole seconds: a serving certificate's end compared with its CA's must compare as written.
    private static DateTimeOffset Seconds(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
