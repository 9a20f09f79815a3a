using System.Globalization;
using k8s.Models;

namespace TokenInjector.Webhook;

/// <summary>
/// Every port the sidecar binds in the pod's network namespace, each with the annotation that moves it, and the clashes
/// that would make whichever binds second crash-loop. A new listener of the sidecar is one more entry in <see cref="Of"/>.
/// </summary>
internal static class SidecarPorts
{
    /// <summary>One listener of the sidecar: its port, what it is and the way to move it (for messages), the annotation that sets the port.</summary>
    internal sealed record Listener(int Port, string What, string WayOut, string Annotation);

    public static IReadOnlyList<Listener> Of(InjectionRequest request, SidecarDefaults defaults) =>
    [
        new(AdminPort(request, defaults), "the admin listener (/metrics, /healthz, /readyz)", $"set {InjectionAnnotations.AdminPort} to another port", InjectionAnnotations.AdminPort),
        .. request.Routes.Select(r => new Listener(r.Route.ListenPort, $"route '{r.Text}'", $"give the route another local port in {InjectionAnnotations.Routes}", InjectionAnnotations.Routes)),
        .. request.EgressPort is { } egress
            ? [new Listener(egress, "the egress listener", $"set {InjectionAnnotations.Egress} to another port", InjectionAnnotations.Egress)]
            : Array.Empty<Listener>(),
        .. request.MetadataPort is { } metadata
            ? [new Listener(metadata, "the metadata endpoint", $"set {InjectionAnnotations.Metadata} to another port", InjectionAnnotations.Metadata)]
            : Array.Empty<Listener>(),
    ];

    /// <summary>The admin port of this pod's sidecar: the pod's annotation, else the webhook's default.</summary>
    public static int AdminPort(InjectionRequest request, SidecarDefaults defaults) => request.AdminPort ?? defaults.AdminPort;

    /// <summary>
    /// Two listeners on one port, or a listener on a port that another container of the pod declares (TCP) or that a
    /// mesh proxy in the pod binds. The sidecar's own container is left out: its declared admin port is one of ours.
    /// </summary>
    public static IEnumerable<string> Clashes(V1Pod pod, IReadOnlyList<Listener> listeners)
    {
        for (var i = 0; i < listeners.Count; i++)
        {
            if (listeners.Take(i).FirstOrDefault(earlier => earlier.Port == listeners[i].Port) is { } first)
            {
                yield return $"annotation {listeners[i].Annotation}: {listeners[i].What} uses port {Port(listeners[i].Port)}, as {first.What} does; expected each listener of the sidecar to have its own port: {listeners[i].WayOut}";
            }
        }

        var declared = (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? [])
            .Where(c => c.Name != PodMutator.SidecarName)
            .SelectMany(c => (c.Ports ?? []).Where(p => p.Protocol is null or "TCP").Select(p => (Port: p.ContainerPort, Container: c.Name, Declared: true)))
            .Concat(MeshRules.MeshPorts(pod).Select(m => (m.Port, m.Container, Declared: false)));
        foreach (var listener in listeners)
        {
            foreach (var (port, container, isDeclared) in declared.Where(d => d.Port == listener.Port).DistinctBy(d => d.Container))
            {
                var how = isDeclared ? "declares" : "binds (it is the mesh's proxy)";
                yield return $"annotation {listener.Annotation}: {listener.What} uses port {Port(port)}, which container {container} {how}: whichever of the two binds it second fails; {listener.WayOut} that no container of the pod uses";
            }
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
