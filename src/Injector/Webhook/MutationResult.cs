using k8s.Models;

namespace TokenInjector.Webhook;

/// <summary>
/// The outcome of <see cref="PodMutator.Mutate"/>: the pod with the sidecar, warnings for the user, and, on
/// re-invocation, what was restored after another webhook removed or changed it.
/// </summary>
internal sealed record MutationResult(V1Pod Pod, IReadOnlyList<string> Warnings, IReadOnlyList<string> Restored);
