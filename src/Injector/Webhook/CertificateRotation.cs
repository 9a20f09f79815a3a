using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Webhook;

/// <summary>
/// When the kept certificate changes, and into what: a pure function of the Secret, the time and whether the caBundle
/// in the API server already trusts the CA to come. A CA nearing its end is replaced in three steps, each taken by
/// whichever replica's update of the Secret wins, none before the previous one has stood for the overlap:
/// <list type="number">
/// <item>the next CA joins the bundle (the old one still signs, so every serving certificate still verifies);</item>
/// <item>once the configurations' caBundle holds the next CA, it signs a new serving certificate;</item>
/// <item>once every replica has had time to serve that one, the old CA leaves the bundle.</item>
/// </list>
/// A serving certificate nearing its end (or naming other DNS names than the flags) is replaced under the same CA in
/// one step: the bundle does not change.
/// </summary>
internal static class CertificateRotation
{
    /// <summary>
    /// The Secret's next content and a word on the step, or null when nothing is due. <paramref name="bundleInPlace"/>:
    /// every configuration's caBundle holds the Secret's bundle.
    /// </summary>
    public static (CertificateSecret Next, string Step)? Next(CertificateSecret current, SelfManagedCertificateOptions options, DateTimeOffset now, bool bundleInPlace)
    {
        switch (current.Phase)
        {
            case RotationPhase.CaAdded when now - current.PhaseSince >= options.RotationOverlap && bundleInPlace:
                var next = current.NextCa!;
                return (current with
                {
                    SigningCa = next,
                    NextCa = null,
                    Serving = CertificateIssuer.IssueServing(next, options.DnsNames, now, options.ServingCertificateLifetime),
                    Phase = RotationPhase.CaSwitched,
                    PhaseSince = now,
                }, "the new CA signs the serving certificate (both CAs stay in the bundle)");
            case RotationPhase.CaSwitched when now - current.PhaseSince >= options.RotationOverlap:
                return (current with { Bundle = CertificateSecret.BundleOf(current.SigningCa), Phase = RotationPhase.None, PhaseSince = now },
                    "the old CA left the bundle");
            case RotationPhase.None:
                break;
            default:
                return null;
        }

        using var ca = X509Certificate2.CreateFromPem(current.SigningCa.CertificatePem);
        if (ca.NotAfter.ToUniversalTime() - now.UtcDateTime < options.RenewBefore)
        {
            var nextCa = CertificateIssuer.CreateAuthority(now, options.CaLifetime);
            return (current with
            {
                NextCa = nextCa,
                Bundle = CertificateSecret.BundleOf(current.SigningCa, nextCa),
                Phase = RotationPhase.CaAdded,
                PhaseSince = now,
            }, "a new CA joined the bundle");
        }

        using var serving = X509Certificate2.CreateFromPem(current.Serving.CertificatePem);
        var expiring = serving.NotAfter.ToUniversalTime() - now.UtcDateTime < options.RenewBefore;
        if (expiring || !SameNames(serving, options.DnsNames))
        {
            return (current with { Serving = CertificateIssuer.IssueServing(current.SigningCa, options.DnsNames, now, options.ServingCertificateLifetime) },
                expiring ? "the serving certificate was renewed" : "the serving certificate was issued again for the DNS names now configured");
        }

        return null;
    }

    private static bool SameNames(X509Certificate2 certificate, IReadOnlyList<string> dnsNames)
    {
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(extension => extension.EnumerateDnsNames());
        return names.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(dnsNames);
    }
}
