using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Demo.Certificates;

/// <summary>The PEM files the demo writes: a throwaway CA, and a server certificate and key signed by it.</summary>
internal sealed record DemoCertificateFiles(string CaFile, string CertificateFile, string KeyFile);

/// <summary>
/// Makes the TLS material of the fake Cloud Run service with .NET alone (no openssl): a CA that lives for the run,
/// and an EC P-256 server certificate for the service's host name. The sidecar trusts the CA through
/// <c>--upstream-ca-file</c>, on top of the system roots, exactly as it would a private CA.
/// </summary>
internal static class DemoCertificates
{
    public static DemoCertificateFiles Write(string directory, string serverHost)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(serverHost);
        var now = DateTimeOffset.UtcNow;

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=token-injector demo CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest($"CN={serverHost}", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(serverHost);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var server = serverRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), serial);

        var files = new DemoCertificateFiles(
            Path.Combine(directory, "ca.pem"), Path.Combine(directory, "server.crt"), Path.Combine(directory, "server.key"));
        File.WriteAllText(files.CaFile, ca.ExportCertificatePem());
        File.WriteAllText(files.CertificateFile, server.ExportCertificatePem());
        WritePrivate(files.KeyFile, serverKey.ExportPkcs8PrivateKeyPem());
        return files;
    }

    /// <summary>Writes a new file that only its owner can read (a key, or a config holding a token).</summary>
    internal static void WritePrivate(string path, string content)
    {
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }
}
