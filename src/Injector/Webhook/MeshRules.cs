using System.Globalization;
using k8s.Models;
using TokenInjector.Configuration;

namespace TokenInjector.Webhook;

/// <summary>
/// What the webhook knows of the service meshes whose injectors share a pod with it, in one place: which of their init
/// containers must run before the sidecar, the ports their proxies bind in the pod, how Istio rewrites probes, and the
/// capture exclusions that are safe to add. Each rule names the file of the mesh's own source it was read from
/// (istio/istio, linkerd/linkerd2, linkerd/linkerd2-proxy-init); docs/MESHES.md says what follows for users.
/// </summary>
internal static class MeshRules
{
    /// <summary>A container a mesh injects, and the ports its process binds in the pod's network namespace.</summary>
    internal sealed record MeshContainer(string Name, string Mesh, IReadOnlyList<int> Ports);

    /// <summary>
    /// Init containers that must run before the sidecar when they head the pod's init containers: the mesh's traffic
    /// set-up (iptables, or the CNI's check that it is in place) and its proxy as a native sidecar. Ours then starts
    /// inside the mesh, and so do the app's init containers after it. To support another mesh, add the names its
    /// injector gives such containers (and the ports its proxy binds); nothing else changes.
    /// </summary>
    /// <remarks>
    /// Only the leading run counts (<see cref="SidecarIndex"/>): with an ordinary-container proxy, Istio moves
    /// istio-init to the end of the init containers (pkg/kube/inject/webhook.go, reorderPod) and Linkerd appends
    /// linkerd-init (charts/patch/templates/patch.json), so that earlier init containers run before traffic is
    /// redirected to a proxy that is not running yet. The sidecar must then stay ahead of them too.
    /// </remarks>
    public static readonly IReadOnlyList<MeshContainer> RunBeforeSidecar =
    [
        // Istio, pkg/kube/inject/inject.go (container names) and webhook.go (reorderPod: in native-sidecar mode
        // istio-init or istio-validation, then istio-proxy, are moved to the front).
        new("istio-init", "Istio", []),
        new("istio-validation", "Istio", []),
        // Ports: 15001 and 15006 (outbound and inbound capture, the injection template's istio-iptables -p / -z),
        // 15020 (status), 15021 (health), 15090 (Envoy's Prometheus port, the template's containerPort), 15000 (Envoy
        // admin, ProxyConfig.proxyAdminPort), 15008 (HBONE, pilot/pkg/model/listener.go), 15053 (DNS proxy,
        // pkg/config/constants/constants.go).
        new("istio-proxy", "Istio", [15000, 15001, 15006, 15008, 15020, 15021, 15053, 15090]),
        // Linkerd, charts/patch/templates/patch.json: in native-sidecar mode linkerd-init (or, with the CNI plugin,
        // linkerd-network-validator) goes in at index 0 and linkerd-proxy right after it.
        new("linkerd-init", "Linkerd", []),
        new("linkerd-network-validator", "Linkerd", []),
        // Ports: charts/linkerd-control-plane/values.yaml, proxy.ports (admin 4191, control 4190, inbound 4143, outbound 4140).
        new("linkerd-proxy", "Linkerd", [4140, 4143, 4190, 4191]),
    ];

    /// <summary>Istio's CNI plugin puts this init container in the pod instead of istio-init.</summary>
    public const string IstioCniValidation = "istio-validation";

    /// <summary>Istio's pod annotation of outbound IP ranges kept out of the capture.</summary>
    public const string IstioExcludeOutboundIpRanges = "traffic.sidecar.istio.io/excludeOutboundIPRanges";

    /// <summary>Istio's pod annotation of inbound ports kept out of the capture.</summary>
    public const string IstioExcludeInboundPorts = "traffic.sidecar.istio.io/excludeInboundPorts";

    /// <summary>The metadata server's address, as a CIDR range.</summary>
    public const string MetadataServerRange = "169.254.169.254/32";

    public static bool IsRunBeforeSidecar(string name) => RunBeforeSidecar.Any(c => c.Name == name);

    /// <summary>
    /// Where the native sidecar belongs among <paramref name="initContainers"/> (which must not contain it): after the
    /// leading run of <see cref="RunBeforeSidecar"/> containers, before everything else.
    /// </summary>
    public static int SidecarIndex(IEnumerable<V1Container> initContainers) =>
        initContainers.TakeWhile(c => IsRunBeforeSidecar(c.Name)).Count();

    /// <summary>The ports bound in the pod by the mesh containers it has: declared or not, a listener of ours there would fail.</summary>
    public static IEnumerable<(int Port, string Container)> MeshPorts(V1Pod pod) =>
        (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? [])
            .SelectMany(c => RunBeforeSidecar.Where(m => m.Name == c.Name))
            .SelectMany(m => m.Ports.Select(port => (port, m.Name)));

    /// <summary>
    /// Istio rewrites the HTTP probes of every container but its own, init containers included, to
    /// <c>/app-health/NAME/readyz|livez|startupz</c> on its status port, and its agent forwards them to the original
    /// (pkg/kube/inject/app_probe.go, patchRewriteProbe; pilot/cmd/pilot-agent/status/server.go, FormatProberURL).
    /// On re-invocation such a probe is the mesh's, not a broken one: the kubelet cannot reach the admin port itself
    /// under STRICT mTLS.
    /// </summary>
    public static bool IsRewrittenByIstio(V1Probe? probe, string container, string kind) =>
        probe?.HttpGet?.Path == $"/app-health/{container}/{kind}";

    /// <summary>
    /// With Istio's CNI plugin, the capture is set up from the pod's own annotations when the pod's network is
    /// created (cni/pkg/plugin/sidecar_redirect.go reads excludeOutboundIPRanges and excludeInboundPorts, defaulting to
    /// none), and the injection template writes the effective values onto the pod. So adding to them there is both
    /// effective and additive: the metadata server stays reachable before istio-proxy runs (an ordinary-container
    /// proxy starts after every init container, ours included) and the kubelet reaches the admin port without mTLS.
    /// With istio-init the rules are already in its arguments, and Linkerd's CNI plugin replaces its own configured
    /// list with the pod's annotation (linkerd2-proxy-init, cni-plugin/main.go), so neither is touched.
    /// </summary>
    public static void AddIstioCniExclusions(V1Pod pod, int adminPort)
    {
        if (!(pod.Spec?.InitContainers ?? []).Any(c => c.Name == IstioCniValidation))
        {
            return;
        }

        pod.Metadata.Annotations ??= new Dictionary<string, string>();
        AddToList(pod.Metadata.Annotations, IstioExcludeOutboundIpRanges, MetadataServerRange);
        AddToList(pod.Metadata.Annotations, IstioExcludeInboundPorts, adminPort.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// A warning for a pod whose Istio capture was set up by istio-init without the admin port excluded, and whose
    /// probes Istio did not rewrite (it ran before the sidecar existed): under STRICT mTLS the kubelet's probes fail.
    /// </summary>
    public static string? IstioInboundWarning(V1Pod pod, V1Container sidecar, int adminPort)
    {
        var port = adminPort.ToString(CultureInfo.InvariantCulture);
        if (!(pod.Spec?.InitContainers ?? []).Any(c => c.Name == "istio-init")
            || IsRewrittenByIstio(sidecar.StartupProbe ?? sidecar.ReadinessProbe, sidecar.Name, sidecar.StartupProbe is null ? "readyz" : "startupz")
            || ListSyntax.Split(Annotation(pod.Metadata?.Annotations, IstioExcludeInboundPorts)).Contains(port))
        {
            return null;
        }

        return $"Istio captures inbound traffic to the sidecar's admin port {port}: under a STRICT PeerAuthentication the kubelet's probes of it fail and the pod never starts; add the annotation {IstioExcludeInboundPorts}: \"{port}\" to the pod template (see the token-injector docs on meshes)";
    }

    private static void AddToList(IDictionary<string, string> annotations, string key, string item)
    {
        var items = ListSyntax.Split(Annotation(annotations, key)).ToList();
        if (!items.Contains(item))
        {
            annotations[key] = string.Join(',', items.Append(item));
        }
    }

    private static string? Annotation(IDictionary<string, string>? annotations, string key) =>
        annotations is not null && annotations.TryGetValue(key, out var value) ? value : null;
}
