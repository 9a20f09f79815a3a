using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Tests.Support;

/// <summary>
/// A throw-away CA and serving certificates for the webhook tests, written as PEM files the way a Secret volume
/// holds them (<c>tls.crt</c>, <c>tls.key</c>). ECDSA P-256 keeps generation fast.
/// </summary>
internal sealed class WebhookTestCertificates : IDisposable
{
    private readonly ECDsa _authorityKey;

    private WebhookTestCertificates(string directory)
    {
        Directory = directory;
        _authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=token-injector test CA", _authorityKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(7));
    }

    public string Directory { get; }

    public X509Certificate2 Authority { get; }

    public string CertFile => Path.Combine(Directory, "tls.crt");

    public string KeyFile => Path.Combine(Directory, "tls.key");

    public string AuthorityPem => Authority.ExportCertificatePem();

    /// <summary>A CA in a fresh temp directory, with a first serving certificate for localhost already written.</summary>
    public static WebhookTestCertificates Create()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ti-webhook-certs-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var certificates = new WebhookTestCertificates(directory);
        certificates.WriteServingCertificate();
        return certificates;
    }

    /// <summary>Issues a new serving certificate for localhost and 127.0.0.1 and writes it over the files; returns its thumbprint.</summary>
    public string WriteServingCertificate(string commonName = "token-injector-webhook")
    {
        using var certificate = Issue(commonName, ["localhost", "token-injector-webhook.token-injector.svc"], [System.Net.IPAddress.Loopback]);
        using var key = certificate.GetECDsaPrivateKey()!;
        // Written next to the target and moved over it, so a reader never sees half a file.
        ReplaceFile(KeyFile, key.ExportPkcs8PrivateKeyPem());
        ReplaceFile(CertFile, certificate.ExportCertificatePem());
        return certificate.Thumbprint;
    }

    public X509Certificate2 Issue(string commonName, IEnumerable<string> dnsNames, IEnumerable<System.Net.IPAddress> addresses)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }

        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var issued = request.Create(Authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Trusts exactly this CA (and not the system roots) when checking a server's certificate.</summary>
    public bool Validate(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public void Dispose()
    {
        _authorityKey.Dispose();
        Authority.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }

    private static void ReplaceFile(string path, string content)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
