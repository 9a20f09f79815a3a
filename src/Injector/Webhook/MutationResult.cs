using k8s.Models;

namespace TokenInjector.Webhook;

/// <summary>The outcome of <see cref="PodMutator.Mutate"/>: the pod with the sidecar, and warnings for the user.</summary>
internal sealed record MutationResult(V1Pod Pod, IReadOnlyList<string> Warnings);
