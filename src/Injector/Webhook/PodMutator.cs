using System.Globalization;
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
    /// Adds the sidecar, or, on re-invocation, restores what another webhook removed or changed of it (its place,
    /// restartPolicy, probes, securityContext, args, port and mounts; the volumes; the mounts and env of the containers
    /// it serves). What others add beside ours (API server defaults, their own env or mounts) is kept, and so are the
    /// image and resources, which image mirrors and GKE Autopilot legitimately rewrite.
    /// </summary>
    public static MutationResult Mutate(V1Pod original, InjectionRequest request, SidecarDefaults defaults)
    {
        var pod = Copy(original);
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
            SidecarRestoration.Restore(pod, existing, sidecar, restored!);
            sidecar = existing;
        }

        AddVolumes(pod, request, restored);
        foreach (var container in pod.Spec.Containers.Where(c => request.Containers.Contains(c.Name, StringComparer.Ordinal))
            .Concat((pod.Spec.InitContainers ?? []).Where(c => request.InitContainers.Contains(c.Name, StringComparer.Ordinal))))
        {
            AddToAppContainer(container, request, restored);
        }

        MeshRules.AddIstioCniExclusions(pod, adminPort);
        var warnings = Warnings(pod, sidecar, request, defaults, fsGroup, restored);
        if (defaults.PrometheusScrape)
        {
            AddPrometheusAnnotations(pod, adminPort);
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

        args.AddRange(request.Impersonations.Select(i => SidecarSettings.Options.Impersonate.Argument(i.ToString())));
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

    // A deep copy through the models' own serializer, so that the input stays untouched for the diff.
    private static V1Pod Copy(V1Pod original)
    {
        var pod = KubernetesJson.Deserialize<V1Pod>(KubernetesJson.Serialize(original));
        pod.Metadata ??= new V1ObjectMeta();
        pod.Spec ??= new V1PodSpec();
        pod.Spec.Containers ??= [];
        return pod;
    }

    private static void AddVolumes(V1Pod pod, InjectionRequest request, List<string>? restored)
    {
        pod.Spec.Volumes ??= [];
        SidecarRestoration.EnsureVolume(pod.Spec.Volumes, MemoryVolume(SocketVolume), restored);
        if (request.TokenDirectory is not null)
        {
            SidecarRestoration.EnsureVolume(pod.Spec.Volumes, MemoryVolume(TokensVolume), restored);
        }
    }

    // What the pod's owner should know although the pod is admitted, in this order: unreadable token files, the
    // mesh's inbound capture, ports opened on the node, and what was restored after other webhooks.
    private static List<string> Warnings(V1Pod pod, V1Container sidecar, InjectionRequest request, SidecarDefaults defaults, long? fsGroup, List<string>? restored)
    {
        var warnings = new List<string>();
        if (request.TokenDirectory is not null && fsGroup is null)
        {
            warnings.Add($"token files in {request.TokenDirectory} are readable by group {SidecarUser} only; set spec.securityContext.fsGroup so that the app containers can read them");
        }

        if (MeshRules.IstioInboundWarning(pod, sidecar, SidecarPorts.AdminPort(request, defaults)) is { } meshWarning)
        {
            warnings.Add(meshWarning);
        }

        if (pod.Spec.HostNetwork == true)
        {
            warnings.Add($"spec.hostNetwork is true and the webhook's operator allows it: the sidecar's ports ({string.Join(", ", SidecarPorts.Of(request, defaults).Select(l => l.Port))}) are opened on the node, where every pod and process of the node can use them with this pod's identity");
        }

        if (restored is { Count: > 0 })
        {
            warnings.Add($"after other webhooks changed the pod, token-injector restored: {string.Join("; ", restored)}");
        }

        return warnings;
    }

    // Prometheus' pod discovery finds the admin port, unless the pod already says how it is scraped.
    private static void AddPrometheusAnnotations(V1Pod pod, int adminPort)
    {
        pod.Metadata.Annotations ??= new Dictionary<string, string>();
        if (!pod.Metadata.Annotations.Keys.Any(k => k.StartsWith("prometheus.io/", StringComparison.Ordinal)))
        {
            pod.Metadata.Annotations["prometheus.io/scrape"] = "true";
            pod.Metadata.Annotations["prometheus.io/port"] = adminPort.ToString(CultureInfo.InvariantCulture);
            pod.Metadata.Annotations["prometheus.io/path"] = "/metrics";
        }
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

    private static void AddToAppContainer(V1Container container, InjectionRequest request, List<string>? restored)
    {
        SidecarRestoration.EnsureMount(container, new V1VolumeMount { Name = SocketVolume, MountPath = SidecarContract.SocketDirectory }, restored);
        if (request.TokenDirectory is not null)
        {
            SidecarRestoration.EnsureMount(container, new V1VolumeMount { Name = TokensVolume, MountPath = request.TokenDirectory, ReadOnlyProperty = true }, restored);
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
}
