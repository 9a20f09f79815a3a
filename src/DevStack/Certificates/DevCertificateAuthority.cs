using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TokenInjector.DevStack.Files;
using TokenInjector.DevStack.Network;

namespace TokenInjector.DevStack.Certificates;

/// <summary>
/// A throwaway certificate authority, made with .NET alone (no openssl): it issues server certificates (EC P-256,
/// quick to make) for DNS names and IP addresses, writes them as PEM files for the programs that take files, and
/// checks server certificates against itself alone. The sidecar trusts it through <c>--upstream-ca-file</c>, on top
/// of the system roots, exactly as it would a private CA; the webhook serves its certificates.
/// </summary>
internal sealed class DevCertificateAuthority : IDisposable
{
    private static readonly TimeSpan Backdated = TimeSpan.FromMinutes(5);

    private DevCertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate as PEM (a kubeconfig's or a webhook configuration's caBundle).</summary>
    public string CertificatePem => Certificate.ExportCertificatePem();

    public static DevCertificateAuthority Create(string name = "token-injector dev CA")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return new DevCertificateAuthority(request.CreateSelfSigned(now - Backdated, now.AddDays(2)));
    }

    /// <summary>A server certificate (with its key) for <paramref name="names"/>, DNS names or IP literals; the first is also the CN.</summary>
    public X509Certificate2 IssueServerCertificate(params string[] names)
    {
        ArgumentOutOfRangeException.ThrowIfZero(names.Length);
        return IssueServerCertificate(names[0], names);
    }

    /// <summary>A server certificate (with its key) named <paramref name="commonName"/>, for <paramref name="names"/> (DNS names or IP literals).</summary>
    public X509Certificate2 IssueServerCertificate(string commonName, IEnumerable<string> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var alternativeNames = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                alternativeNames.AddIpAddress(address);
            }
            else
            {
                alternativeNames.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(alternativeNames.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));

        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        // Inside the CA's validity, which started earlier.
        using var issued = request.Create(Certificate, now - Backdated, now.AddDays(1), serial);
        using var withKey = issued.CopyWithPrivateKey(key);

        // A PKCS#12 round trip makes the key usable by SslStream on every platform, not only Linux.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>Writes the CA certificate as PEM (for <c>--upstream-ca-file</c> and the like); returns the path.</summary>
    public string WriteCaPem(string directory, string fileName = "ca.pem")
    {
        var path = Path.Combine(directory, fileName);
        File.WriteAllText(path, CertificatePem);
        return path;
    }

    /// <summary>Writes a certificate and its private key (PKCS#8, mode 0600) as two PEM files: <c>NAME.crt</c>, <c>NAME.key</c>.</summary>
    public static (string CertificateFile, string KeyFile) WritePem(X509Certificate2 certificate, string directory, string baseName) =>
        WritePemFiles(certificate, Path.Combine(directory, baseName + ".crt"), Path.Combine(directory, baseName + ".key"));

    /// <summary>Writes a certificate and its private key (PKCS#8, mode 0600) to the files named, replacing them whole.</summary>
    public static (string CertificateFile, string KeyFile) WritePemFiles(X509Certificate2 certificate, string certificateFile, string keyFile)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("not an EC certificate with a private key");
        PrivateFile.Write(keyFile, key.ExportPkcs8PrivateKeyPem());
        PrivateFile.Write(certificateFile, certificate.ExportCertificatePem());
        return (certificateFile, keyFile);
    }

    /// <summary>True when <paramref name="certificate"/> chains to this CA (and to nothing else).</summary>
    public bool Validate(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <summary>An HTTP handler that trusts this CA alone and, when <paramref name="connectTo"/> is given, connects there whatever the URL's host.</summary>
    public SocketsHttpHandler CreateHttpHandler(IPEndPoint? connectTo = null) => LoopbackHttp.Handler(connectTo, Certificate);

    public void Dispose() => Certificate.Dispose();
}
