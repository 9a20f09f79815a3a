using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using TokenInjector.Configuration;

namespace TokenInjector.Webhook;

/// <summary>
/// The pod mutation as a pure function: <c>(pod, request, defaults) → mutated pod</c>. It never changes its input,
/// so the caller can diff the two to build the JSON patch.
/// </summary>
internal static class PodMutator
{
    public const string SidecarName = "token-injector";
    public const string SocketVolume = "token-injector-socket";
    public const string TokensVolume = "token-injector-tokens";

    /// <summary>Where the sidecar writes token files; app containers see the same volume at the pod's token-dir.</summary>
    public const string SidecarTokenDirectory = "/var/run/token-injector-tokens";

    public const string AdminPortName = "ti-admin";
    public const long SidecarUser = 65532;

    /// <summary>The sidecar in <paramref name="pod"/> (as an init container or a container), or null before injection.</summary>
    public static V1Container? FindSidecar(V1Pod pod) =>
        (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? []).FirstOrDefault(c => c.Name == SidecarName);

    /// <summary>A pod that already has the sidecar: a re-invocation, which checks it rather than adding another.</summary>
    public static bool IsInjected(V1Pod pod) => FindSidecar(pod) is not null;

    /// <summary>
    /// Problems that make injection impossible for this pod: names and paths of its own that clash with what the webhook
    /// adds, and, on re-invocation, changes by another webhook that cannot be undone without undoing its work.
    /// </summary>
    /// <param name="pod">The pod as the API server sent it.</param>
    /// <param name="nativeSidecar">Where the pod's annotations put the sidecar, or null when they could not be read.</param>
    public static IEnumerable<string> Conflicts(V1Pod pod, bool? nativeSidecar)
    {
        var injected = IsInjected(pod);
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            // Once injected, these volumes are the webhook's own.
            if (!injected && volume.Name is SocketVolume or TokensVolume)
            {
                yield return $"the pod already has a volume named {volume.Name}, which token-injector adds; rename it";
            }
        }

        foreach (var container in (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? []))
        {
            if ((container.VolumeMounts ?? []).Any(m => m.MountPath.TrimEnd('/') == SidecarContract.SocketDirectory && !(injected && m.Name == SocketVolume)))
            {
                yield return $"container {container.Name} already mounts {SidecarContract.SocketDirectory}, where token-injector puts its socket; mount that volume at another path";
            }
        }

        if (!injected)
        {
            yield break;
        }

        var copies = (pod.Spec?.InitContainers ?? []).Count(c => c.Name == SidecarName) + (pod.Spec?.Containers ?? []).Count(c => c.Name == SidecarName);
        var inInitContainers = (pod.Spec?.InitContainers ?? []).Any(c => c.Name == SidecarName);
        if (copies > 1)
        {
            yield return $"the pod has {copies} containers named {SidecarName}: another webhook or the pod's template added one; remove it, token-injector adds its own";
        }
        else if (nativeSidecar is { } native && inInitContainers != native)
        {
            var (found, expected) = inInitContainers ? ("spec.initContainers", "spec.containers") : ("spec.containers", "spec.initContainers");
            yield return $"the {SidecarName} container is in {found}, but {InjectionAnnotations.NativeSidecar} is \"{(native ? "true" : "false")}\" and puts it in {expected}: another webhook moved it, and moving it back would change the order in which the pod starts; stop that webhook from moving it, or set {InjectionAnnotations.NativeSidecar} to match";
        }
    }

    /// <summary>
    /// Adds the sidecar, or, on re-invocation, restores what another webhook removed or changed of it (its place,
    /// restartPolicy, probes, securityContext, args, port and mounts; the volumes; the mounts and env of the containers
    /// it serves). What others add beside ours (API server defaults, their own env or mounts) is kept, and so are the
    /// image and resources, which image mirrors and GKE Autopilot legitimately rewrite.
    /// </summary>
    public static MutationResult Mutate(V1Pod original, InjectionRequest request, SidecarDefaults defaults)
    {
        // A deep copy through the models' own serializer, so that the input stays untouched for the diff.
        var pod = KubernetesJson.Deserialize<V1Pod>(KubernetesJson.Serialize(original));
        pod.Metadata ??= new V1ObjectMeta();
        pod.Spec ??= new V1PodSpec();
        pod.Spec.Containers ??= [];
        var warnings = new List<string>();
        var existing = FindSidecar(pod);
        var restored = existing is null ? null : new List<string>();

        var fsGroup = pod.Spec.SecurityContext?.FsGroup;
        var adminPort = SidecarPorts.AdminPort(request, defaults);
        var sidecar = Sidecar(request, defaults, fsGroup);
        if (existing is null)
        {
            Place(pod, sidecar, request.NativeSidecar);
        }
        else
        {
            Restore(pod, existing, sidecar, restored!);
            sidecar = existing;
        }

        pod.Spec.Volumes ??= [];
        EnsureVolume(pod.Spec.Volumes, MemoryVolume(SocketVolume), restored);
        if (request.TokenDirectory is not null)
        {
            EnsureVolume(pod.Spec.Volumes, MemoryVolume(TokensVolume), restored);
            if (fsGroup is null)
            {
                warnings.Add($"token files in {request.TokenDirectory} are readable by group {SidecarUser} only; set spec.securityContext.fsGroup so that the app containers can read them");
            }
        }

        foreach (var container in pod.Spec.Containers.Where(c => request.Containers.Contains(c.Name, StringComparer.Ordinal))
            .Concat((pod.Spec.InitContainers ?? []).Where(c => request.InitContainers.Contains(c.Name, StringComparer.Ordinal))))
        {
            AddToAppContainer(container, request, restored);
        }

        MeshRules.AddIstioCniExclusions(pod, adminPort);
        if (MeshRules.IstioInboundWarning(pod, sidecar, adminPort) is { } meshWarning)
        {
            warnings.Add(meshWarning);
        }

        if (pod.Spec.HostNetwork == true)
        {
            warnings.Add($"spec.hostNetwork is true and the webhook's operator allows it: the sidecar's ports ({string.Join(", ", SidecarPorts.Of(request, defaults).Select(l => l.Port))}) are opened on the node, where every pod and process of the node can use them with this pod's identity");
        }

        if (defaults.PrometheusScrape)
        {
            pod.Metadata.Annotations ??= new Dictionary<string, string>();
            if (!pod.Metadata.Annotations.Keys.Any(k => k.StartsWith("prometheus.io/", StringComparison.Ordinal)))
            {
                pod.Metadata.Annotations["prometheus.io/scrape"] = "true";
                pod.Metadata.Annotations["prometheus.io/port"] = adminPort.ToString(CultureInfo.InvariantCulture);
                pod.Metadata.Annotations["prometheus.io/path"] = "/metrics";
            }
        }

        if (restored is { Count: > 0 })
        {
            warnings.Add($"after other webhooks changed the pod, token-injector restored: {string.Join("; ", restored)}");
        }

        return new MutationResult(pod, warnings, restored ?? []);
    }

    /// <summary>The sidecar's command line, written with the option definitions <c>injector sidecar</c> parses.</summary>
    public static List<string> SidecarArgs(InjectionRequest request, SidecarDefaults defaults, long? fsGroup)
    {
        var args = new List<string>
        {
            SidecarSettings.Command.Command,
            SidecarSettings.Options.Socket.Argument(SidecarContract.SocketPath),
            SidecarSettings.Options.AdminAddress.Argument("0.0.0.0:" + SidecarPorts.AdminPort(request, defaults).ToString(CultureInfo.InvariantCulture)),
            CommonOptions.LogFormat.Argument(defaults.LogFormat),
        };

        // Without a shared fsGroup the app's user is in no group the socket's owner is, so the socket must be
        // world-writable to be usable. Only containers that mount the volume can reach it at all.
        if (fsGroup is null)
        {
            args.Add(SidecarSettings.Options.SocketMode.Argument("0666"));
        }

        args.AddRange(request.Audiences.Select(SidecarSettings.Options.Audience.Argument));
        args.AddRange(request.Routes.Select(r => SidecarSettings.Options.Route.Argument(r.Text)));
        if (request.EgressPort is { } egress)
        {
            args.Add(SidecarSettings.Options.Egress.Argument(egress.ToString(CultureInfo.InvariantCulture)));
            args.AddRange(request.EgressHosts.Select(SidecarSettings.Options.EgressHost.Argument));
        }

        if (request.MetadataPort is { } metadata)
        {
            args.Add(SidecarSettings.Options.Metadata.Argument(metadata.ToString(CultureInfo.InvariantCulture)));
        }

        if (request.TokenDirectory is not null)
        {
            args.Add(SidecarSettings.Options.TokenDir.Argument(SidecarTokenDirectory));
        }

        return args;
    }

    private static V1Container Sidecar(InjectionRequest request, SidecarDefaults defaults, long? fsGroup)
    {
        var adminPort = SidecarPorts.AdminPort(request, defaults);
        var mounts = new List<V1VolumeMount> { new() { Name = SocketVolume, MountPath = SidecarContract.SocketDirectory } };
        if (request.TokenDirectory is not null)
        {
            mounts.Add(new V1VolumeMount { Name = TokensVolume, MountPath = SidecarTokenDirectory });
        }

        var container = new V1Container
        {
            Name = SidecarName,
            Image = defaults.Image,
            ImagePullPolicy = defaults.ImagePullPolicy,
            Args = SidecarArgs(request, defaults, fsGroup),
            Ports = [new V1ContainerPort { Name = AdminPortName, ContainerPort = adminPort, Protocol = "TCP" }],
            Resources = new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity>
                {
                    ["cpu"] = new(request.CpuRequest ?? defaults.CpuRequest),
                    ["memory"] = new(request.MemoryRequest ?? defaults.MemoryRequest),
                },
                Limits = new Dictionary<string, ResourceQuantity>
                {
                    ["memory"] = new(request.MemoryLimit ?? defaults.MemoryLimit),
                },
            },
            VolumeMounts = mounts,
            SecurityContext = new V1SecurityContext
            {
                RunAsNonRoot = true,
                RunAsUser = SidecarUser,
                RunAsGroup = fsGroup ?? SidecarUser,
                ReadOnlyRootFilesystem = true,
                AllowPrivilegeEscalation = false,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
                SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
            },
            LivenessProbe = Probe("/healthz", adminPort, periodSeconds: 10, failureThreshold: 3),
        };

        if (request.NativeSidecar)
        {
            // Kubernetes starts the app containers only once this probe passes: tokens are ready before the app runs.
            container.RestartPolicy = "Always";
            container.StartupProbe = Probe("/readyz", adminPort, periodSeconds: 1, failureThreshold: 120);
        }
        else
        {
            container.ReadinessProbe = Probe("/readyz", adminPort, periodSeconds: 5, failureThreshold: 1);
        }

        return container;
    }

    private static V1Probe Probe(string path, int port, int periodSeconds, int failureThreshold) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = port },
        PeriodSeconds = periodSeconds,
        FailureThreshold = failureThreshold,
        TimeoutSeconds = 1,
    };

    private static V1Volume MemoryVolume(string name) => new()
    {
        Name = name,
        EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory", SizeLimit = new ResourceQuantity("1Mi") },
    };

    // The native sidecar goes after the mesh containers that must run first and before the app's init containers,
    // so that those can use it (Kubernetes starts each init container after the sidecar's startup probe passed).
    private static void Place(V1Pod pod, V1Container sidecar, bool native)
    {
        if (native)
        {
            pod.Spec.InitContainers ??= [];
            pod.Spec.InitContainers.Insert(MeshRules.SidecarIndex(pod.Spec.InitContainers), sidecar);
        }
        else
        {
            pod.Spec.Containers.Add(sidecar);
        }
    }

    private static void Restore(V1Pod pod, V1Container existing, V1Container desired, List<string> restored)
    {
        if (pod.Spec.InitContainers is { } initContainers && initContainers.IndexOf(existing) is var current and >= 0)
        {
            initContainers.RemoveAt(current);
            var index = MeshRules.SidecarIndex(initContainers);
            initContainers.Insert(index, existing);
            if (index != current)
            {
                restored.Add(index == 0 ? $"the place of {SidecarName} as the first init container" : $"the place of {SidecarName} right after init container {initContainers[index - 1].Name}");
            }
        }

        if (existing.RestartPolicy != desired.RestartPolicy)
        {
            existing.RestartPolicy = desired.RestartPolicy;
            restored.Add($"restartPolicy of {SidecarName}");
        }

        existing.StartupProbe = RestoredProbe(existing.StartupProbe, desired.StartupProbe, "startupz", "startupProbe", restored);
        existing.LivenessProbe = RestoredProbe(existing.LivenessProbe, desired.LivenessProbe, "livez", "livenessProbe", restored);
        existing.ReadinessProbe = RestoredProbe(existing.ReadinessProbe, desired.ReadinessProbe, "readyz", "readinessProbe", restored);

        if (!Covers(existing.SecurityContext, desired.SecurityContext))
        {
            existing.SecurityContext = desired.SecurityContext;
            restored.Add($"securityContext of {SidecarName}");
        }

        if (!(existing.Args ?? []).SequenceEqual(desired.Args))
        {
            existing.Args = desired.Args;
            restored.Add($"args of {SidecarName}");
        }

        existing.Ports ??= [];
        foreach (var port in desired.Ports.Where(p => !existing.Ports.Any(e => Covers(e, p))))
        {
            existing.Ports = existing.Ports.Where(e => e.Name != port.Name).Append(port).ToList();
            restored.Add($"port {port.Name} of {SidecarName}");
        }

        existing.VolumeMounts ??= [];
        foreach (var mount in desired.VolumeMounts)
        {
            EnsureMount(existing, mount, restored);
        }
    }

    // Istio rewrites every container's probes to go through its agent (MeshRules): that is not a probe to restore.
    private static V1Probe? RestoredProbe(V1Probe? existing, V1Probe? desired, string istioKind, string field, List<string> restored)
    {
        if (Covers(existing, desired) || MeshRules.IsRewrittenByIstio(existing, SidecarName, istioKind))
        {
            return existing;
        }

        restored.Add($"{field} of {SidecarName}");
        return desired;
    }

    private static void EnsureVolume(IList<V1Volume> volumes, V1Volume volume, List<string>? restored)
    {
        var index = volumes.ToList().FindIndex(v => v.Name == volume.Name);
        if (index < 0)
        {
            volumes.Add(volume);
            restored?.Add($"volume {volume.Name}");
        }
        else if (!Covers(volumes[index], volume))
        {
            volumes[index] = volume;
            restored?.Add($"volume {volume.Name}");
        }
    }

    private static void EnsureMount(V1Container container, V1VolumeMount mount, List<string>? restored)
    {
        container.VolumeMounts ??= [];
        if (!container.VolumeMounts.Any(m => Covers(m, mount)))
        {
            container.VolumeMounts = container.VolumeMounts.Where(m => m.Name != mount.Name).Append(mount).ToList();
            restored?.Add($"volume mount {mount.MountPath} of {container.Name}");
        }
    }

    private static void AddToAppContainer(V1Container container, InjectionRequest request, List<string>? restored)
    {
        EnsureMount(container, new V1VolumeMount { Name = SocketVolume, MountPath = SidecarContract.SocketDirectory }, restored);
        if (request.TokenDirectory is not null)
        {
            EnsureMount(container, new V1VolumeMount { Name = TokensVolume, MountPath = request.TokenDirectory, ReadOnlyProperty = true }, restored);
        }

        // The socket's variable is the one `injector token` reads its --socket from, so it works in the app container as is.
        AddEnv(container, SidecarSettings.Options.Socket.EnvironmentVariable, SidecarContract.SocketPath, restored);
        foreach (var (route, _) in request.Routes)
        {
            AddEnv(container, SidecarContract.RouteEnvironmentVariable(route.ListenPort), "http://127.0.0.1:" + route.ListenPort.ToString(CultureInfo.InvariantCulture), restored);
        }

        if (request.EgressPort is { } egress)
        {
            AddEnv(container, SidecarContract.EgressEnvironmentVariable, "http://127.0.0.1:" + egress.ToString(CultureInfo.InvariantCulture), restored);
        }

        if (request.MetadataPort is { } metadata)
        {
            // Google's libraries in the app then find the sidecar's endpoint instead of the node's metadata server.
            foreach (var name in SidecarContract.MetadataEnvironmentVariables)
            {
                AddEnv(container, name, "127.0.0.1:" + metadata.ToString(CultureInfo.InvariantCulture), restored);
            }
        }

        if (request.TokenDirectory is not null)
        {
            AddEnv(container, SidecarContract.TokenDirEnvironmentVariable, request.TokenDirectory, restored);
        }
    }

    // The app's own value wins: a variable it already sets is left alone rather than duplicated (on re-invocation too,
    // where a value that differs cannot be told from one the app set before the first pass).
    private static void AddEnv(V1Container container, string name, string value, List<string>? restored)
    {
        container.Env ??= [];
        if (!container.Env.Any(e => e.Name == name))
        {
            container.Env.Add(new V1EnvVar { Name = name, Value = value });
            restored?.Add($"env {name} of {container.Name}");
        }
    }

    /// <summary>
    /// Whether <paramref name="existing"/> has everything <paramref name="desired"/> sets, with the same values; other
    /// members may be there too (the API server defaults fields after each webhook, and other webhooks add theirs).
    /// </summary>
    private static bool Covers(object? existing, object? desired) =>
        Covers(ToNode(existing), ToNode(desired));

    private static bool Covers(JsonNode? existing, JsonNode? desired) => (existing, desired) switch
    {
        (_, null) => true,
        (JsonObject e, JsonObject d) => d.All(member => Covers(e[member.Key], member.Value)),
        (JsonArray e, JsonArray d) => e.Count == d.Count && d.Select((item, i) => Covers(e[i], item)).All(covered => covered),
        _ => JsonNode.DeepEquals(existing, desired),
    };

    private static JsonNode? ToNode(object? value) => value is null ? null : JsonNode.Parse(KubernetesJson.Serialize(value));
}
