namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// How the GKE metadata server turns down <c>.../identity</c> when Workload Identity cannot give the pod an ID token,
/// with the status and body it answers (see docs/ARCHITECTURE.md "The emulators" for what of each is verified and
/// what assumed). <see cref="Name"/> is the control API's name for it; <see cref="UnboundServiceAccount"/> is the
/// Kubernetes service account (<c>NAMESPACE/NAME</c>) that has no Google service account, whose federated identity the
/// server's access tokens then carry.
/// </summary>
internal sealed record IdentityRefusal(string Name, int Status, string Body, string? UnboundServiceAccount = null)
{
    public const string NoServiceAccountName = "no_service_account";
    public const string KsaNotAllowedName = "ksa_not_allowed";

    /// <summary>The Kubernetes service account the refusals name, as the real server names the pod's.</summary>
    public const string DefaultKubernetesServiceAccount = "default/default";

    /// <summary>
    /// The pod's Kubernetes service account has no <c>iam.gke.io/gcp-service-account</c> annotation (Workload Identity
    /// Federation for GKE with IAM granted to the <c>principal://</c> itself): no ID token without a Google service
    /// account. Status and wording (?) as a third-party GKE metadata emulator that mirrors the real server writes them.
    /// </summary>
    public static IdentityRefusal NoServiceAccount(string kubernetesServiceAccount = DefaultKubernetesServiceAccount) => new(
        NoServiceAccountName,
        404,
        $"Your Kubernetes service account ({kubernetesServiceAccount}) is not annotated with a target Google service account, which is a requirement for retrieving Identity Tokens using Workload Identity.\n"
        + "Please add the iam.gke.io/gcp-service-account=[GSA_NAME]@[PROJECT_ID] annotation to your Kubernetes service account.\n"
        + "Refer to https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity\n",
        kubernetesServiceAccount);

    /// <summary>
    /// The annotation names a Google service account, but the KSA may not act as it (no
    /// <c>roles/iam.workloadIdentityUser</c> binding for <c>PROJECT.svc.id.goog[NS/KSA]</c>): the wording public reports
    /// quote from the real server's token endpoint, assumed (?) the same on the identity endpoint.
    /// </summary>
    public static IdentityRefusal KsaNotAllowed() => new(
        KsaNotAllowedName,
        403,
        "Unable to generate access token; IAM returned 403 Forbidden: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).\n"
        + "This error could be caused by a missing IAM policy binding on the target IAM service account.\n"
        + "For more information, refer to the Workload Identity documentation:\n"
        + "\thttps://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity#authenticating_to\n\n");

    /// <summary>The refusal the control API names <paramref name="name"/>; null for an unknown name.</summary>
    public static IdentityRefusal? Named(string name) => name switch
    {
        NoServiceAccountName => NoServiceAccount(),
        KsaNotAllowedName => KsaNotAllowed(),
        _ => null,
    };
}
