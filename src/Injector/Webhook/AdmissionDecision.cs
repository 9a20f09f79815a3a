using System.Text.Json.Nodes;

namespace TokenInjector.Webhook;

/// <summary>How one pod was judged.</summary>
internal enum AdmissionOutcome
{
    /// <summary>The sidecar was added (or restored); the decision carries the patch.</summary>
    Mutated,

    /// <summary>Nothing to do (already injected, or not a pod the webhook acts on).</summary>
    Skipped,

    /// <summary>A workload's pod template passed every rule; the decision carries the warnings its pods will get, never a patch.</summary>
    Allowed,

    /// <summary>The pod's annotations are wrong, or the pod cannot take the sidecar; the decision carries the reason.</summary>
    Denied,
}

/// <summary>
/// A decision on one pod, before it is wrapped into an AdmissionResponse. The message is the reason of a skip or a
/// denial, or, for a re-invoked pod that was mutated, what the patch restores.
/// </summary>
internal sealed record AdmissionDecision(AdmissionOutcome Outcome, JsonArray? Patch, string? Message, IReadOnlyList<string> Warnings)
{
    /// <summary>For an allowed workload template: the service account its pods run as (null: the namespace's default), whose Workload Identity binding is checked.</summary>
    public string? ServiceAccountName { get; init; }

    /// <summary>
    /// Whether some of the pod's ID tokens are its own Google identity's, so that its Kubernetes service account must be
    /// bound to one (<see cref="WorkloadIdentityCheck"/>); false when it impersonates for every audience.
    /// </summary>
    public bool UsesPodIdentity { get; init; } = true;

    public static AdmissionDecision Skip(string reason) => new(AdmissionOutcome.Skipped, null, reason, []);
}
