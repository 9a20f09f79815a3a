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

    /// <summary>A pod that already has the sidecar (as an init container or a container) is left as it is.</summary>
    public static bool IsInjected(V1Pod pod) =>
        (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? []).Any(c => c.Name == SidecarName);

    /// <summary>Problems that make injection impossible for this pod (name clashes with what the webhook adds).</summary>
    public static IEnumerable<string> Conflicts(V1Pod pod)
    {
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            if (volume.Name is SocketVolume or TokensVolume)
            {
                yield return $"the pod already has a volume named {volume.Name}, which token-injector adds; rename it";
            }
        }

        foreach (var container in pod.Spec?.Containers ?? [])
        {
            if ((container.VolumeMounts ?? []).Any(m => m.MountPath.TrimEnd('/') == SidecarContract.SocketDirectory))
            {
                yield return $"container {container.Name} already mounts {SidecarContract.SocketDirectory}, where token-injector puts its socket";
            }
        }
    }

    public static MutationResult Mutate(V1Pod original, InjectionRequest request, SidecarDefaults defaults)
    {
        // A deep copy through the models' own serializer, so that the input stays untouched for the diff.
        var pod = KubernetesJson.Deserialize<V1Pod>(KubernetesJson.Serialize(original));
        pod.Metadata ??= new V1ObjectMeta();
        pod.Spec ??= new V1PodSpec();
        pod.Spec.Containers ??= [];
        var warnings = new List<string>();

        var fsGroup = pod.Spec.SecurityContext?.FsGroup;
        var sidecar = Sidecar(request, defaults, fsGroup);
        if (request.NativeSidecar)
        {
            pod.Spec.InitContainers ??= [];
            pod.Spec.InitContainers.Add(sidecar);
        }
        else
        {
            pod.Spec.Containers.Add(sidecar);
        }

        pod.Spec.Volumes ??= [];
        pod.Spec.Volumes.Add(MemoryVolume(SocketVolume));
        if (request.TokenDirectory is not null)
        {
            pod.Spec.Volumes.Add(MemoryVolume(TokensVolume));
            if (fsGroup is null)
            {
                warnings.Add($"token files in {request.TokenDirectory} are readable by group {SidecarUser} only; set spec.securityContext.fsGroup so that the app containers can read them");
            }
        }

        foreach (var container in pod.Spec.Containers.Where(c => request.Containers.Contains(c.Name, StringComparer.Ordinal)))
        {
            AddToAppContainer(container, request);
        }

        if (defaults.PrometheusScrape)
        {
            pod.Metadata.Annotations ??= new Dictionary<string, string>();
            if (!pod.Metadata.Annotations.Keys.Any(k => k.StartsWith("prometheus.io/", StringComparison.Ordinal)))
            {
                pod.Metadata.Annotations["prometheus.io/scrape"] = "true";
                pod.Metadata.Annotations["prometheus.io/port"] = defaults.AdminPort.ToString(CultureInfo.InvariantCulture);
                pod.Metadata.Annotations["prometheus.io/path"] = "/metrics";
            }
        }

        return new MutationResult(pod, warnings);
    }

    /// <summary>The sidecar's command line, written with the option definitions <c>injector sidecar</c> parses.</summary>
    public static List<string> SidecarArgs(InjectionRequest request, SidecarDefaults defaults, long? fsGroup)
    {
        var args = new List<string>
        {
            SidecarSettings.Command.Command,
            SidecarSettings.Options.Socket.Argument(SidecarContract.SocketPath),
            SidecarSettings.Options.AdminAddress.Argument("0.0.0.0:" + defaults.AdminPort.ToString(CultureInfo.InvariantCulture)),
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
        if (request.TokenDirectory is not null)
        {
            args.Add(SidecarSettings.Options.TokenDir.Argument(SidecarTokenDirectory));
        }

        return args;
    }

    private static V1Container Sidecar(InjectionRequest request, SidecarDefaults defaults, long? fsGroup)
    {
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
            Ports = [new V1ContainerPort { Name = AdminPortName, ContainerPort = defaults.AdminPort, Protocol = "TCP" }],
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
            LivenessProbe = Probe("/healthz", defaults.AdminPort, periodSeconds: 10, failureThreshold: 3),
        };

        if (request.NativeSidecar)
        {
            // Kubernetes starts the app containers only once this probe passes: tokens are ready before the app runs.
            container.RestartPolicy = "Always";
            container.StartupProbe = Probe("/readyz", defaults.AdminPort, periodSeconds: 1, failureThreshold: 120);
        }
        else
        {
            container.ReadinessProbe = Probe("/readyz", defaults.AdminPort, periodSeconds: 5, failureThreshold: 1);
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

    private static void AddToAppContainer(V1Container container, InjectionRequest request)
    {
        container.VolumeMounts ??= [];
        container.VolumeMounts.Add(new V1VolumeMount { Name = SocketVolume, MountPath = SidecarContract.SocketDirectory });
        if (request.TokenDirectory is not null)
        {
            container.VolumeMounts.Add(new V1VolumeMount { Name = TokensVolume, MountPath = request.TokenDirectory, ReadOnlyProperty = true });
        }

        container.Env ??= [];
        // The socket's variable is the one `injector token` reads its --socket from, so it works in the app container as is.
        AddEnv(container, SidecarSettings.Options.Socket.EnvironmentVariable, SidecarContract.SocketPath);
        foreach (var (route, _) in request.Routes)
        {
            AddEnv(container, SidecarContract.RouteEnvironmentVariable(route.ListenPort), "http://127.0.0.1:" + route.ListenPort.ToString(CultureInfo.InvariantCulture));
        }

        if (request.TokenDirectory is not null)
        {
            AddEnv(container, SidecarContract.TokenDirEnvironmentVariable, request.TokenDirectory);
        }
    }

    // The app's own value wins: a variable it already sets is left alone rather than duplicated.
    private static void AddEnv(V1Container container, string name, string value)
    {
        if (!container.Env.Any(e => e.Name == name))
        {
            container.Env.Add(new V1EnvVar { Name = name, Value = value });
        }
    }
}
