using System.Net;
using System.Text.RegularExpressions;

namespace TokenInjector.Tokens;

/// <summary>
/// The GKE metadata server turning down an ID token because of how Workload Identity is set up, not because of a
/// passing fault: the pod's Kubernetes service account names no Google service account (Workload Identity Federation
/// for GKE with IAM granted to the <c>principal://</c> itself gives access tokens only), or it names one it may not act
/// as. Retrying cannot help until someone changes IAM or the annotation, so the refusal is told apart:
/// <see cref="Reason"/> is the metric label, <see cref="Problem"/> the fetch failure's message (said on each failed
/// retry), <see cref="Fix"/> what to change (logged once, and shown by <c>/readyz</c>). The bodies are matched on their
/// stable phrases; see docs/ARCHITECTURE.md "The emulators" for what of them is verified and what assumed.
/// </summary>
internal sealed partial record WorkloadIdentityRefusal(string Reason, string Problem, string Fix)
{
    public const string NoServiceAccount = "no_service_account";
    public const string KsaNotAllowed = "ksa_not_allowed";

    /// <summary>What the readiness answer says: the problem and its fix.</summary>
    public string Message => $"{Problem}; to fix: {Fix}";

    /// <summary>The refusal an answer of the metadata server's identity endpoint is, or null for any other failure.</summary>
    public static WorkloadIdentityRefusal? Classify(HttpStatusCode status, string body)
    {
        if (status == HttpStatusCode.NotFound && body.Contains("is not annotated with a target Google service account", StringComparison.Ordinal))
        {
            var account = KubernetesServiceAccount().Match(body) is { Success: true } match ? match.Groups["ksa"].Value : "of this pod";
            return new(
                NoServiceAccount,
                $"the GKE metadata server gives no ID token to this pod: its Kubernetes service account {account} names no Google service account, and Workload Identity Federation without one gives access tokens only",
                $"annotate the Kubernetes service account with iam.gke.io/gcp-service-account=GSA_NAME@PROJECT_ID.iam.gserviceaccount.com and grant it roles/iam.workloadIdentityUser on that Google service account (member serviceAccount:PROJECT_ID.svc.id.goog[{(account == "of this pod" ? "NAMESPACE/KSA" : account)}]), or have the sidecar impersonate a Google service account (--impersonate SA, the token-injector.dev/impersonate annotation), granting this Kubernetes service account's principal:// roles/iam.serviceAccountOpenIdTokenCreator on it");
        }

        if (status == HttpStatusCode.Forbidden && body.Contains("iam.serviceAccounts.getAccessToken", StringComparison.Ordinal))
        {
            return new(
                KsaNotAllowed,
                "the GKE metadata server gives no ID token to this pod: IAM does not let its Kubernetes service account act as the Google service account its iam.gke.io/gcp-service-account annotation names",
                "grant the Kubernetes service account roles/iam.workloadIdentityUser on that Google service account (member serviceAccount:PROJECT_ID.svc.id.goog[NAMESPACE/KSA]), or correct the annotation; IAM changes can take minutes to apply");
        }

        return null;
    }

    // "Your Kubernetes service account (NAMESPACE/NAME) is not annotated ...": Kubernetes names only, so nothing else is echoed.
    [GeneratedRegex(@"service account \((?<ksa>[a-z0-9][-a-z0-9.]{0,252}/[a-z0-9][-a-z0-9.]{0,252})\)")]
    private static partial Regex KubernetesServiceAccount();
}
