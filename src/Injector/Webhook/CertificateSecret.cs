using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;

namespace TokenInjector.Webhook;

/// <summary>Where a CA rotation stands; each step is taken once the one before has been in place for the overlap.</summary>
internal enum RotationPhase
{
    /// <summary>One CA: it signs the serving certificate and is the whole bundle.</summary>
    None,

    /// <summary>The next CA is in the bundle beside the current one; the current one still signs.</summary>
    CaAdded,

    /// <summary>The next CA signs the serving certificate; the old one is still in the bundle.</summary>
    CaSwitched,
}

/// <summary>
/// The self-managed certificate as its Secret holds it (type <c>kubernetes.io/tls</c>): <c>tls.crt</c>/<c>tls.key</c>
/// the serving certificate, <c>ca.crt</c> the bundle of CAs to trust now (two during a rotation),
/// <c>signing-ca.crt</c>/<c>signing-ca.key</c> the CA that signs, and during the first step of a rotation
/// <c>next-ca.crt</c>/<c>next-ca.key</c>. The label <see cref="OwnerLabel"/> marks it as the webhook's, and two
/// annotations keep the rotation's phase and when it began. Parsing checks every piece, so a Secret that loads is one
/// the webhook can serve and sign with.
/// </summary>
internal sealed record CertificateSecret
{
    public const string OwnerLabel = "token-injector.dev/certificate";
    public const string OwnerValue = "self-managed";
    public const string PhaseAnnotation = "token-injector.dev/rotation";
    public const string PhaseSinceAnnotation = "token-injector.dev/rotation-since";
    private const string ServingCertificateKey = "tls.crt";
    private const string ServingKeyKey = "tls.key";
    private const string BundleKey = "ca.crt";
    private const string SigningCertificateKey = "signing-ca.crt";
    private const string SigningKeyKey = "signing-ca.key";
    private const string NextCertificateKey = "next-ca.crt";
    private const string NextKeyKey = "next-ca.key";

    public required PemPair Serving { get; init; }

    /// <summary>The PEM bundle of every CA to trust now: what goes into the caBundle.</summary>
    public required string Bundle { get; init; }

    public required PemPair SigningCa { get; init; }

    public PemPair? NextCa { get; init; }

    public RotationPhase Phase { get; init; }

    public DateTimeOffset PhaseSince { get; init; }

    /// <summary>A first CA and a serving certificate it signed.</summary>
    public static CertificateSecret Create(SelfManagedCertificateOptions options, DateTimeOffset now)
    {
        var ca = CertificateIssuer.CreateAuthority(now, options.CaLifetime);
        return new CertificateSecret
        {
            SigningCa = ca,
            Bundle = BundleOf(ca),
            Serving = CertificateIssuer.IssueServing(ca, options.DnsNames, now, options.ServingCertificateLifetime),
            Phase = RotationPhase.None,
            PhaseSince = now,
        };
    }

    /// <summary>The PEM bundle of <paramref name="authorities"/>, one certificate per block, each ending its line.</summary>
    public static string BundleOf(params PemPair[] authorities) => string.Concat(authorities.Select(ca => ca.CertificatePem.TrimEnd() + "\n"));

    /// <summary>True when the Secret carries the webhook's label: anything else of that name is left alone.</summary>
    public static bool IsOurs(V1Secret secret) =>
        secret.Metadata?.Labels?.TryGetValue(OwnerLabel, out var value) == true && value == OwnerValue;

    /// <summary>Reads and checks the Secret; false with what is wrong when a piece is missing or does not load.</summary>
    public static bool TryParse(V1Secret secret, out CertificateSecret? parsed, out string problem)
    {
        parsed = null;
        var data = secret.Data ?? new Dictionary<string, byte[]>();
        string? Text(string key) => data.TryGetValue(key, out var bytes) && bytes is { Length: > 0 } ? Encoding.ASCII.GetString(bytes) : null;
        var missing = new[] { ServingCertificateKey, ServingKeyKey, BundleKey, SigningCertificateKey, SigningKeyKey }.Where(key => Text(key) is null).ToList();
        if (missing.Count > 0)
        {
            problem = $"has no {string.Join(", ", missing)}";
            return false;
        }

        var annotations = secret.Metadata?.Annotations ?? new Dictionary<string, string>();
        var phase = annotations.TryGetValue(PhaseAnnotation, out var phaseText) ? phaseText switch
        {
            "ca-added" => RotationPhase.CaAdded,
            "ca-switched" => RotationPhase.CaSwitched,
            "none" => RotationPhase.None,
            _ => (RotationPhase?)null,
        } : RotationPhase.None;
        var since = DateTimeOffset.MinValue;
        if (phase is null
            || (phase != RotationPhase.None
                && (!annotations.TryGetValue(PhaseSinceAnnotation, out var sinceText)
                    || !DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out since))))
        {
            problem = $"has a bad {PhaseAnnotation}/{PhaseSinceAnnotation} annotation";
            return false;
        }

        var candidate = new CertificateSecret
        {
            Serving = new PemPair(Text(ServingCertificateKey)!, Text(ServingKeyKey)!),
            Bundle = Text(BundleKey)!,
            SigningCa = new PemPair(Text(SigningCertificateKey)!, Text(SigningKeyKey)!),
            NextCa = Text(NextCertificateKey) is { } next && Text(NextKeyKey) is { } nextKey ? new PemPair(next, nextKey) : null,
            Phase = phase.Value,
            PhaseSince = since,
        };
        if (candidate.Phase == RotationPhase.CaAdded && candidate.NextCa is null)
        {
            problem = $"is in rotation phase ca-added without {NextCertificateKey} and {NextKeyKey}";
            return false;
        }

        try
        {
            using var serving = ServingCertificate.Load(candidate.Serving);
            foreach (var pair in new[] { candidate.SigningCa, candidate.NextCa }.OfType<PemPair>())
            {
                using var ca = X509Certificate2.CreateFromPem(pair.CertificatePem, pair.KeyPem);
            }

            var bundle = new X509Certificate2Collection();
            bundle.ImportFromPem(candidate.Bundle);
            if (bundle.Count == 0)
            {
                throw new CryptographicException($"{BundleKey} holds no certificate");
            }

            foreach (var certificate in bundle)
            {
                certificate.Dispose();
            }
        }
        catch (CryptographicException ex)
        {
            problem = $"does not hold a usable certificate and key: {ex.Message}";
            return false;
        }

        parsed = candidate;
        problem = string.Empty;
        return true;
    }

    /// <summary>The Secret with this content; <paramref name="existing"/>'s metadata (resourceVersion, others' labels) kept for an update.</summary>
    public V1Secret ToSecret(string name, string @namespace, V1Secret? existing = null)
    {
        var metadata = existing?.Metadata ?? new V1ObjectMeta { Name = name, NamespaceProperty = @namespace };
        metadata.Labels ??= new Dictionary<string, string>();
        metadata.Labels[OwnerLabel] = OwnerValue;
        metadata.Annotations ??= new Dictionary<string, string>();
        metadata.Annotations[PhaseAnnotation] = Phase switch
        {
            RotationPhase.CaAdded => "ca-added",
            RotationPhase.CaSwitched => "ca-switched",
            _ => "none",
        };
        metadata.Annotations[PhaseSinceAnnotation] = PhaseSince.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var data = new Dictionary<string, byte[]>
        {
            [ServingCertificateKey] = Encoding.ASCII.GetBytes(Serving.CertificatePem),
            [ServingKeyKey] = Encoding.ASCII.GetBytes(Serving.KeyPem),
            [BundleKey] = Encoding.ASCII.GetBytes(Bundle),
            [SigningCertificateKey] = Encoding.ASCII.GetBytes(SigningCa.CertificatePem),
            [SigningKeyKey] = Encoding.ASCII.GetBytes(SigningCa.KeyPem),
        };
        if (NextCa is not null)
        {
            data[NextCertificateKey] = Encoding.ASCII.GetBytes(NextCa.CertificatePem);
            data[NextKeyKey] = Encoding.ASCII.GetBytes(NextCa.KeyPem);
        }

        return new V1Secret { ApiVersion = "v1", Kind = "Secret", Type = "kubernetes.io/tls", Metadata = metadata, Data = data };
    }
}
