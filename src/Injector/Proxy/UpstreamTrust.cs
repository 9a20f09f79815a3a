using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Proxy;

/// <summary>
/// Verifies upstream certificates against the system roots and, on top of them, the CAs of
/// <c>--upstream-ca-file</c> (private CAs, Private Service Connect, tests). Verification is never switched off:
/// a name mismatch or a chain that neither trust store accepts fails the handshake.
/// </summary>
internal sealed class UpstreamTrust(X509Certificate2Collection extraRoots)
{
    public static UpstreamTrust Load(string? caFile)
    {
        var roots = new X509Certificate2Collection();
        if (caFile is not null)
        {
            roots.ImportFromPemFile(caFile);
        }

        return new UpstreamTrust(roots);
    }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || extraRoots.Count == 0 || certificate is null)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(extraRoots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            // Intermediates the server sent.
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }
}
