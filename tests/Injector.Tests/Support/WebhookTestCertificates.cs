using System.Security.Cryptography.X509Certificates;
using TokenInjector.DevStack.Certificates;
using TokenInjector.DevStack.Kubernetes;

namespace TokenInjector.Tests.Support;

/// <summary>
/// The webhook's serving certificate as a Secret volume holds it (<c>tls.crt</c>, <c>tls.key</c> in a directory of
/// their own), issued by a throwaway CA, and issued again over the same files to test reloading.
/// </summary>
internal sealed class WebhookTestCertificates : IDisposable
{
    private readonly TempDirectory _directory = new("ti-webhook-certs-");

    private WebhookTestCertificates()
    {
    }

    public DevCertificateAuthority Authority { get; } = DevCertificateAuthority.Create();

    public string Directory => _directory.Path;

    public string CertFile => _directory.File("tls.crt");

    public string KeyFile => _directory.File("tls.key");

    public string AuthorityPem => Authority.CertificatePem;

    /// <summary>A CA in a fresh temp directory, with a first serving certificate already written.</summary>
    public static WebhookTestCertificates Create()
    {
        var certificates = new WebhookTestCertificates();
        certificates.WriteServingCertificate();
        return certificates;
    }

    /// <summary>Issues a new serving certificate for localhost and 127.0.0.1 and writes it over the files; returns its thumbprint.</summary>
    public string WriteServingCertificate(string commonName = "token-injector-webhook")
    {
        using var certificate = Authority.IssueServerCertificate(commonName, ["localhost", "token-injector-webhook.token-injector.svc", "127.0.0.1"]);
        DevCertificateAuthority.WritePemFiles(certificate, CertFile, KeyFile);
        return certificate.Thumbprint;
    }

    /// <summary>A certificate from the same CA for another server (a fake API server), for DNS names and addresses.</summary>
    public X509Certificate2 Issue(string commonName, IEnumerable<string> dnsNames, IEnumerable<System.Net.IPAddress> addresses) =>
        Authority.IssueServerCertificate(commonName, [.. dnsNames, .. addresses.Select(address => address.ToString())]);

    /// <summary>The API server stand-in, serving a certificate from this CA, with its kubeconfig in this directory.</summary>
    public Task<FakeApiServer> StartApiServerAsync(CancellationToken cancellationToken = default) =>
        FakeApiServer.StartAsync(Authority, Directory, cancellationToken).WaitAsync(TestWait.Limit, cancellationToken);

    /// <summary>A kubeconfig naming a loopback port where nothing listens.</summary>
    public string WriteUnreachableKubeconfig() => FakeApiServer.WriteUnreachableKubeconfig(Authority, Directory);

    /// <summary>Trusts exactly this CA (and not the system roots) when checking a server's certificate.</summary>
    public bool Validate(X509Certificate2 certificate) => Authority.Validate(certificate);

    public void Dispose()
    {
        Authority.Dispose();
        _directory.Dispose();
    }
}
