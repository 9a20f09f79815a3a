using System.Globalization;
using k8s.Models;
using TokenInjector.Configuration;

namespace TokenInjector.Webhook;

/// <summary>
/// The pod annotations that steer injection, and their validation. Every problem names the annotation, the value
/// and the form expected, because the message is all an app team sees when <c>kubectl apply</c> is denied.
/// </summary>
internal static class InjectionAnnotations
{
    public const string Prefix = "token-injector.dev/";
    public const string Audiences = Prefix + "audiences";
    public const string Routes = Prefix + "routes";
    public const string TokenDir = Prefix + "token-dir";
    public const string Containers = Prefix + "containers";
    public const string CpuRequest = Prefix + "cpu-request";
    public const string MemoryRequest = Prefix + "memory-request";
    public const string MemoryLimit = Prefix + "memory-limit";
    public const string NativeSidecar = Prefix + "native-sidecar";
    public const string InitContainers = Prefix + "init-containers";
    public const string AdminPort = Prefix + "admin-port";
    public const string Egress = Prefix + "egress";
    public const string EgressHosts = Prefix + "egress-hosts";
    public const string Metadata = Prefix + "metadata";
    public const string Impersonate = Prefix + "impersonate";

    /// <summary>The label the chart's objectSelector matches; not an annotation, but part of the same contract.</summary>
    public const string InjectLabel = Prefix + "inject";

    private static readonly string[] Known =
        [Audiences, Routes, Egress, EgressHosts, Metadata, Impersonate, TokenDir, Containers, InitContainers, CpuRequest, MemoryRequest, MemoryLimit, NativeSidecar, AdminPort];

    // Directories the app's image needs; an emptyDir mounted over them would hide the app's own files.
    private static readonly string[] ForbiddenTokenDirectories = ["/", "/etc", "/usr", "/var", "/run", "/var/run", "/bin", "/lib", "/sbin", "/tmp"];

    // Kernel and device file systems: nothing may be mounted over them or anywhere inside them.
    private static readonly string[] ForbiddenTokenTrees = ["/proc", "/dev", "/sys"];

    // Where Kubernetes mounts the service account token (/var/run is /run in most images); hiding it, or mounting
    // inside it, breaks the app's own API access.
    private static readonly string[] KubernetesMounts = ["/var/run/secrets/kubernetes.io/serviceaccount", "/run/secrets/kubernetes.io/serviceaccount"];

    /// <summary>Parses the annotations of <paramref name="pod"/>; returns null and fills <paramref name="errors"/> when they are wrong.</summary>
    public static InjectionRequest? Parse(V1Pod pod, List<string> errors)
    {
        var annotations = pod.Metadata?.Annotations ?? new Dictionary<string, string>();

        // The order of these reads is the order of the errors in the denial.
        ReportUnknown(annotations, errors);
        var audiences = AudienceList(annotations, errors);
        var routes = RouteList(annotations, errors);
        var egressPort = Port(annotations, Egress, errors);
        var egressHosts = EgressHostPatterns(annotations, errors);
        var metadataPort = MetadataPort(annotations, errors);
        var impersonations = ImpersonationList(annotations, errors);
        RequireSomethingToServe(annotations, audiences, routes, errors);
        var containers = ContainerNames(annotations, pod, errors);
        var tokenDir = TokenDirectory(annotations, pod, errors);
        var native = NativeSidecarChoice(annotations, errors);
        var initContainers = InitContainerNames(annotations, pod, native, errors);
        var adminPort = Port(annotations, AdminPort, errors);
        var cpu = Quantity(annotations, CpuRequest, errors);
        var memoryRequest = Quantity(annotations, MemoryRequest, errors);
        var memoryLimit = Quantity(annotations, MemoryLimit, errors);

        if (errors.Count > 0)
        {
            return null;
        }

        return new InjectionRequest
        {
            Audiences = audiences,
            Routes = routes,
            EgressPort = egressPort,
            EgressHosts = egressHosts,
            MetadataPort = metadataPort,
            Impersonations = impersonations,
            TokenDirectory = tokenDir,
            Containers = containers,
            InitContainers = initContainers,
            AdminPort = adminPort,
            CpuRequest = cpu,
            MemoryRequest = memoryRequest,
            MemoryLimit = memoryLimit,
            NativeSidecar = native,
        };
    }

    // A misspelt annotation would otherwise be ignored in silence, and the pod run without what it asked for.
    private static void ReportUnknown(IDictionary<string, string> annotations, List<string> errors)
    {
        foreach (var key in annotations.Keys.Where(k => k.StartsWith(Prefix, StringComparison.Ordinal) && !Known.Contains(k)).Order(StringComparer.Ordinal))
        {
            errors.Add($"annotation {key} is not known; the token-injector.dev annotations are: {string.Join(", ", Known)}");
        }
    }

    private static List<string> AudienceList(IDictionary<string, string> annotations, List<string> errors)
    {
        var audiences = new List<string>();
        foreach (var audience in Items(annotations, Audiences))
        {
            if (AudienceRules.Problem(audience) is { } problem)
            {
                errors.Add($"annotation {Audiences}: '{audience}' {problem}; expected a comma-separated list of audiences such as https://my-service-abc123-uc.a.run.app");
            }
            else if (!audiences.Contains(audience, StringComparer.Ordinal))
            {
                audiences.Add(audience);
            }
        }

        return audiences;
    }

    // Each route with its text as the pod wrote it, which the sidecar is given unchanged.
    private static List<(RouteSpec, string)> RouteList(IDictionary<string, string> annotations, List<string> errors)
    {
        var routes = new List<(RouteSpec, string)>();
        foreach (var text in Items(annotations, Routes))
        {
            if (!RouteSpec.TryParse(text, out var route, out var problem))
            {
                errors.Add($"annotation {Routes}: '{text}' {problem}; expected a comma-separated list of {RouteSpec.Syntax}, e.g. 8080=https://my-service-abc123-uc.a.run.app");
            }
            else
            {
                // A port used twice is one of the clashes SidecarPorts finds among all the sidecar's listeners.
                routes.Add((route!, text));
            }
        }

        return routes;
    }

    // Each entry checked as --impersonate checks it, and written back in the form it reads.
    private static List<ImpersonationSpec> ImpersonationList(IDictionary<string, string> annotations, List<string> errors)
    {
        var impersonations = new List<ImpersonationSpec>();
        foreach (var text in Items(annotations, Impersonate))
        {
            if (!ImpersonationSpec.TryParse(text, out var spec, out var problem))
            {
                errors.Add($"annotation {Impersonate}: '{text}' {problem}; expected a comma-separated list of {ImpersonationSpec.Syntax}, e.g. invoker@my-project.iam.gserviceaccount.com=https://billing-abc123-uc.a.run.app");
            }
            else if (ImpersonationSpec.Conflict(impersonations, spec) is { } conflict)
            {
                errors.Add($"annotation {Impersonate}: '{text}' {conflict}");
            }
            else
            {
                impersonations.Add(spec);
            }
        }

        return impersonations;
    }

    // The inject label with nothing to serve is a mistake, said once: not again when the audiences or routes given
    // were refused (or an unknown annotation starts with their name, most likely a misspelling of one).
    private static void RequireSomethingToServe(IDictionary<string, string> annotations, List<string> audiences, List<(RouteSpec, string)> routes, List<string> errors)
    {
        if (audiences.Count == 0 && routes.Count == 0 && !annotations.ContainsKey(Egress) && !annotations.ContainsKey(Metadata)
            && !errors.Any(e => e.StartsWith($"annotation {Audiences}", StringComparison.Ordinal) || e.StartsWith($"annotation {Routes}", StringComparison.Ordinal)))
        {
            errors.Add($"annotation {Audiences}, {Routes}, {Egress} or {Metadata} is required: the pod has the {InjectLabel} label but asks for no token; expected e.g. {Routes}: \"8080=https://my-service-abc123-uc.a.run.app\"");
        }
    }

    // The app's containers: neither the sidecar (on re-invocation it is there already) nor a mesh's proxy. Without
    // the annotation, all of them.
    private static List<string> ContainerNames(IDictionary<string, string> annotations, V1Pod pod, List<string> errors)
    {
        var appContainers = (pod.Spec?.Containers ?? [])
            .Where(c => c.Name != PodMutator.SidecarName && !MeshRules.IsRunBeforeSidecar(c.Name))
            .Select(c => c.Name).ToList();
        if (!annotations.TryGetValue(Containers, out var containersText))
        {
            return appContainers;
        }

        var named = Items(annotations, Containers).ToList();
        var unknown = named.Where(n => !appContainers.Contains(n, StringComparer.Ordinal)).ToList();
        if (named.Count == 0 || unknown.Count > 0)
        {
            errors.Add($"annotation {Containers}: '{containersText}' names {(named.Count == 0 ? "no container" : "unknown container(s) " + string.Join(", ", unknown))}; expected a comma-separated list of the pod's containers: {string.Join(", ", appContainers)}");
            return appContainers;
        }

        return named.Distinct(StringComparer.Ordinal).ToList();
    }

    // True (the default): an init container with restartPolicy Always; false: an ordinary container.
    private static bool NativeSidecarChoice(IDictionary<string, string> annotations, List<string> errors)
    {
        if (!annotations.TryGetValue(NativeSidecar, out var nativeText))
        {
            return true;
        }

        switch (nativeText.Trim().ToLowerInvariant())
        {
            case "true":
                return true;
            case "false":
                return false;
            default:
                errors.Add($"annotation {NativeSidecar}: '{nativeText}' is not a boolean; expected \"true\" (an init container with restartPolicy Always) or \"false\" (an ordinary container)");
                return true;
        }
    }

    private static IEnumerable<string> Items(IDictionary<string, string> annotations, string key) =>
        annotations.TryGetValue(key, out var text) ? ListSyntax.Split(text) : [];

    // Init containers run one after another, so only those after the sidecar can use it: the sidecar must be a native
    // one, and the mesh containers that run before it (MeshRules) cannot be named.
    private static IReadOnlyList<string> InitContainerNames(IDictionary<string, string> annotations, V1Pod pod, bool native, List<string> errors)
    {
        if (!annotations.TryGetValue(InitContainers, out var text))
        {
            return [];
        }

        var all = (pod.Spec?.InitContainers ?? []).Where(c => c.Name != PodMutator.SidecarName).ToList();
        var before = all.Take(MeshRules.SidecarIndex(all)).Select(c => c.Name).ToList();
        var after = all.Skip(before.Count).Select(c => c.Name).ToList();
        var named = Items(annotations, InitContainers).Distinct(StringComparer.Ordinal).ToList();
        var expected = after.Count == 0
            ? "no init-containers annotation: the pod has no init container that runs after the sidecar"
            : "a comma-separated list of the init containers that run after the sidecar: " + string.Join(", ", after);
        if (named.Count == 0)
        {
            errors.Add($"annotation {InitContainers}: '{text}' names no init container; expected {expected}");
            return [];
        }

        if (!native)
        {
            errors.Add(InitContainersWithoutNativeSidecar(text));
            return [];
        }

        foreach (var name in named.Where(before.Contains))
        {
            errors.Add($"annotation {InitContainers}: init container {name} runs before the sidecar ({string.Join(", ", before)} set up the service mesh and must start first), so it cannot use tokens; expected {expected}");
        }

        var unknown = named.Where(n => !before.Contains(n) && !after.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            errors.Add($"annotation {InitContainers}: '{text}' names unknown init container(s) {string.Join(", ", unknown)}; expected {expected}");
        }

        return named;
    }

    /// <summary>
    /// The refusal of init containers named for a classic sidecar: as an ordinary container it starts only after every
    /// init container has finished, so none of them could ever reach it.
    /// </summary>
    private static string InitContainersWithoutNativeSidecar(string text) =>
        $"annotation {InitContainers}: '{text}' names init containers, but with {NativeSidecar} \"false\" the sidecar is an ordinary container "
        + $"that starts after every init container, so none of them could use it; expected {NativeSidecar} \"true\" (the default) or no {InitContainers} annotation";

    private static int? Port(IDictionary<string, string> annotations, string key, List<string> errors)
    {
        if (!annotations.TryGetValue(key, out var text))
        {
            return null;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535)
        {
            return port;
        }

        errors.Add($"annotation {key}: '{text}' is not a port; expected a number from 1 to 65535 that no container of the pod uses, e.g. \"9465\"");
        return null;
    }

    // "true" is the default port (SidecarContract.DefaultMetadataPort), "false" none, a number that port.
    private static int? MetadataPort(IDictionary<string, string> annotations, List<string> errors)
    {
        if (!annotations.TryGetValue(Metadata, out var text))
        {
            return null;
        }

        switch (text.Trim().ToLowerInvariant())
        {
            case "true":
                return SidecarContract.DefaultMetadataPort;
            case "false":
                return null;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535)
        {
            return port;
        }

        errors.Add($"annotation {Metadata}: '{text}' is neither a port nor true/false; expected \"true\" (port {SidecarContract.DefaultMetadataPort}) or a number from 1 to 65535 that no container of the pod uses, e.g. \"8988\"");
        return null;
    }

    // The patterns as the pod wrote them (passed to the sidecar unchanged), each checked as --egress-host checks it.
    private static IReadOnlyList<string> EgressHostPatterns(IDictionary<string, string> annotations, List<string> errors)
    {
        var patterns = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in Items(annotations, EgressHosts))
        {
            if (!EgressHostSpec.TryParse(text, out var spec, out var problem))
            {
                errors.Add($"annotation {EgressHosts}: '{text}' {problem}; expected a comma-separated list of {EgressHostSpec.Syntax}, e.g. *.run.app or billing-abc123-uc.a.run.app");
            }
            else if (!seen.Add(spec.Pattern))
            {
                errors.Add($"annotation {EgressHosts}: '{text}' repeats the pattern {spec.Pattern}; expected each host once, with one audience");
            }
            else
            {
                patterns.Add(text);
            }
        }

        if (patterns.Count > 0 && !annotations.ContainsKey(Egress))
        {
            errors.Add($"annotation {EgressHosts} is given without {Egress}, so no listener would use it; expected {Egress}: \"PORT\" too, e.g. \"8081\"");
        }

        return patterns;
    }

    private static string? Quantity(IDictionary<string, string> annotations, string key, List<string> errors)
    {
        if (!annotations.TryGetValue(key, out var text))
        {
            return null;
        }

        text = text.Trim();
        if (QuantityRules.TryParse(text, out _))
        {
            return text;
        }

        errors.Add($"annotation {key}: '{text}' is not a resource quantity; expected {QuantityRules.Expected}");
        return null;
    }

    private static string? TokenDirectory(IDictionary<string, string> annotations, V1Pod pod, List<string> errors)
    {
        if (!annotations.TryGetValue(TokenDir, out var text))
        {
            return null;
        }

        const string Expected = "an absolute directory path that the app does not use yet, such as /var/run/secrets/tokens";
        var path = text.Trim();
        if (!path.StartsWith('/') || path.Split('/').Any(segment => segment is "." or ".."))
        {
            errors.Add($"annotation {TokenDir}: '{text}' is not an absolute path; expected {Expected}");
            return null;
        }

        // As the kubelet cleans it: '//etc/' is /etc.
        path = Normalize(path);
        if (ForbiddenTokenDirectories.Contains(path, StringComparer.Ordinal)
            || ForbiddenTokenTrees.Any(tree => Overlaps(path, tree)))
        {
            errors.Add($"annotation {TokenDir}: '{text}' would hide the image's own {path}; expected {Expected}");
            return null;
        }

        if (KubernetesMounts.FirstOrDefault(mount => Overlaps(path, mount)) is { } kubernetesMount)
        {
            errors.Add($"annotation {TokenDir}: '{text}' overlaps {kubernetesMount}, where Kubernetes mounts the service account token; expected {Expected}");
            return null;
        }

        if (Overlaps(path, SidecarContract.SocketDirectory))
        {
            errors.Add($"annotation {TokenDir}: '{text}' overlaps the socket directory {SidecarContract.SocketDirectory}; expected {Expected}");
            return null;
        }

        // Every app container's mounts count, init containers too, not only the injected ones: the same path meaning
        // two things in one pod is a trap. The sidecar's own volumes (a re-invocation sees them) are not the app's.
        var mounts = (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? [])
            .Where(c => c.Name != PodMutator.SidecarName)
            .SelectMany(c => c.VolumeMounts ?? [])
            .Where(m => m.Name is not (PodMutator.SocketVolume or PodMutator.TokensVolume))
            .Select(m => Normalize(m.MountPath))
            .Where(m => Overlaps(path, m))
            .ToList();
        if (mounts.Count > 0)
        {
            errors.Add($"annotation {TokenDir}: '{text}' overlaps the volume mount {mounts[0]} of an app container; expected {Expected}");
            return null;
        }

        return path;
    }

    private static string Normalize(string path) =>
        "/" + string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));

    // One path hides or is hidden by the other: equal, or one lies inside the other.
    private static bool Overlaps(string a, string b) =>
        a == b || a == "/" || b == "/" || a.StartsWith(b + "/", StringComparison.Ordinal) || b.StartsWith(a + "/", StringComparison.Ordinal);
}
