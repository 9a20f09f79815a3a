using System.Text.Json.Nodes;
using TokenInjector.DevStack.Stack;
using TokenInjector.Tests.Support;
using TokenInjector.Tests.Webhook;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Security checks of the configuration and the webhook: routes stay on loopback unless explicitly allowed, the token
/// directory cannot hide a path the app uses, and the injected container is locked down whatever the pod allows.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class SecurityTests
{
    private static readonly TimeSpan Timeout = TestWait.Limit;

    [Fact]
    public async Task NonLoopbackRouteListener_IsAConfigurationError_UnlessExplicitlyAllowed()
    {
        string[] route = ["--route", "18080=https://svc-abc123-uc.a.run.app", "--socket", "/tmp/ti-never.sock"];
        var refused = new List<(string Address, int ExitCode, string Output)>();
        foreach (var address in new[] { "0.0.0.0", "10.1.2.3", "::" })
        {
            using var process = SidecarProcess.Launch(new SidecarLaunch(TestPrograms.Injector, [.. route, "--listen-address", address]));
            await process.WaitForExitAsync();
            refused.Add((address, process.ExitCode, process.Output));
        }

        var allowed = SidecarSettingsFrom([.. route, "--listen-address", "0.0.0.0", "--allow-non-loopback-listeners", "true"]);
        var loopback = SidecarSettingsFrom([.. route, "--listen-address", "::1"]);
        var injectedArgs = PodMutatorArgs();
        var clear = refused.All(r => r.ExitCode == 2 && r.Output.Contains("is not a loopback address", StringComparison.Ordinal) && r.Output.Contains("--allow-non-loopback-listeners", StringComparison.Ordinal));
        var injectedLoopback = !injectedArgs.Any(a => a.Contains("listen-address", StringComparison.Ordinal) || a.Contains("allow-non-loopback", StringComparison.Ordinal));

        var passed = clear && allowed && loopback && injectedLoopback;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Security,
            "route listeners loopback only unless allowed",
            [
                $"non-loopback addresses refused with exit 2: {refused.Count(r => r.ExitCode == 2)}/{refused.Count}",
                $"accepted with --allow-non-loopback-listeners: {(allowed ? "yes" : "no")}",
                $"::1 accepted: {(loopback ? "yes" : "no")}",
                $"webhook-injected args loopback: {(injectedLoopback ? "yes" : "no")}",
            ],
            passed));

        Assert.All(refused, r => Assert.True(r.ExitCode == 2, $"{r.Address}: exit {r.ExitCode}"));
        Assert.True(clear, "the refusal does not name the problem and the opt-in flag: " + string.Join(" | ", refused.Select(r => r.Output)));
        Assert.True(allowed);
        Assert.True(loopback);
        Assert.True(injectedLoopback, string.Join(' ', injectedArgs));
    }

    public static TheoryData<string, string> HiddenTokenDirectories => new()
    {
        { "/", "would hide" },
        { "/etc", "would hide" },
        { "//etc/", "would hide" },
        { "/usr", "would hide" },
        { "/bin", "would hide" },
        { "/proc", "would hide" },
        { "/proc/self", "would hide" },
        { "/dev", "would hide" },
        { "/dev/shm/tokens", "would hide" },
        { "/sys", "would hide" },
        { "/run", "would hide" },
        { "/var/run/secrets", "service account token" },
        { "/var/run/secrets/kubernetes.io", "service account token" },
        { "/var/run/secrets/kubernetes.io/serviceaccount", "service account token" },
        { "/var/run/secrets/kubernetes.io/serviceaccount/tokens", "service account token" },
        { "/run/secrets/kubernetes.io/serviceaccount", "service account token" },
        { "/data", "volume mount /data" },
        { "/data/tokens", "volume mount /data" },
        { "/cache", "volume mount /cache/app" },
        { "//cache//app", "volume mount /cache/app" },
        { "tokens", "not an absolute path" },
        { "./tokens", "not an absolute path" },
        { "/tokens/../etc", "not an absolute path" },
        { "/var/run/token-injector", "socket directory" },
    };

    [Fact]
    public async Task TokenDirectory_ThatWouldOverlayAPathTheAppUses_IsDenied_NamingTheProblem()
    {
        using var certificates = WebhookTestCertificates.Create();
        await using var webhook = await RunningWebhook.StartAsync(certificates, [], CancellationToken.None);
        var wrong = new List<string>();
        foreach (var (path, expected) in HiddenTokenDirectories.Select(row => ((string)row[0], (string)row[1])))
        {
            var response = await webhook.ReviewAsync(PodWithTokenDir(path), CancellationToken.None).WaitAsync(Timeout);
            var message = response["status"]?["message"]?.GetValue<string>() ?? string.Empty;
            if (response["allowed"]!.GetValue<bool>() || !message.Contains("token-injector.dev/token-dir", StringComparison.Ordinal) || !message.Contains(expected, StringComparison.Ordinal))
            {
                wrong.Add($"{path}: {(response["allowed"]!.GetValue<bool>() ? "allowed" : message)}");
            }
        }

        var accepted = await webhook.ReviewAsync(PodWithTokenDir("/var/run/secrets/tokens"), CancellationToken.None).WaitAsync(Timeout);
        var acceptsAFreePath = accepted["allowed"]!.GetValue<bool>() && accepted["patch"] is not null;

        var passed = wrong.Count == 0 && acceptsAFreePath;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Security,
            "token-dir cannot overlay app paths",
            [$"paths denied with a clear message: {HiddenTokenDirectories.Count - wrong.Count}/{HiddenTokenDirectories.Count}", $"a free path accepted: {(acceptsAFreePath ? "yes" : "no")}"],
            passed)
        {
            Note = string.Join("; ", wrong.Take(3)),
        });

        Assert.Empty(wrong);
        Assert.True(acceptsAFreePath);
    }

    [Fact]
    public async Task InjectedSidecar_IsLockedDown_EvenInPodsThatAllowMore()
    {
        using var certificates = WebhookTestCertificates.Create();
        await using var webhook = await RunningWebhook.StartAsync(certificates, [], CancellationToken.None);
        var pods = new Dictionary<string, JsonNode>
        {
            ["plain"] = RunningWebhook.GoldenInput("controller-generate-name"),
            ["classic sidecar"] = RunningWebhook.GoldenInput("classic-sidecar"),
            ["root pod"] = WithPodSecurity("""{"runAsUser":0,"runAsNonRoot":false,"runAsGroup":0}"""),
            ["unconfined seccomp, fsGroup"] = WithPodSecurity("""{"seccompProfile":{"type":"Unconfined"},"fsGroup":2000,"supplementalGroups":[0]}"""),
            ["privileged app"] = WithPrivilegedApp(),
        };
        var problems = new List<string>();
        foreach (var (name, pod) in pods)
        {
            var response = await webhook.ReviewAsync(pod, CancellationToken.None).WaitAsync(Timeout);
            var patched = JsonPatchApplier.Apply(pod, RunningWebhook.Patch(response));
            var sidecar = (patched["spec"]!["initContainers"]?.AsArray() ?? []).Concat(patched["spec"]!["containers"]!.AsArray())
                .Single(c => c!["name"]!.GetValue<string>() == "token-injector")!;
            var security = sidecar["securityContext"];
            var missing = new List<string>();
            Check(security?["runAsNonRoot"]?.GetValue<bool>() == true, "runAsNonRoot");
            Check(security?["runAsUser"]?.GetValue<long>() is > 0, "runAsUser non-zero");
            Check(security?["readOnlyRootFilesystem"]?.GetValue<bool>() == true, "readOnlyRootFilesystem");
            Check(security?["allowPrivilegeEscalation"]?.GetValue<bool>() == false, "allowPrivilegeEscalation false");
            Check(security?["privileged"]?.GetValue<bool>() != true, "not privileged");
            Check(security?["capabilities"]?["drop"]?.AsArray().Any(c => c!.GetValue<string>() == "ALL") == true, "capabilities drop ALL");
            Check(security?["capabilities"]?["add"] is null, "no capabilities added");
            Check(security?["seccompProfile"]?["type"]?.GetValue<string>() == "RuntimeDefault", "seccomp RuntimeDefault");
            if (missing.Count > 0)
            {
                problems.Add($"{name}: {string.Join(", ", missing)}");
            }

            void Check(bool ok, string what)
            {
                if (!ok)
                {
                    missing.Add(what);
                }
            }
        }

        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Security,
            "injected sidecar securityContext",
            [$"pods: {pods.Count} (incl. root, unconfined seccomp, privileged app)", $"sidecars not locked down: {problems.Count}"],
            problems.Count == 0)
        {
            Note = string.Join("; ", problems),
        });

        Assert.Empty(problems);
    }

    private static bool SidecarSettingsFrom(string[] args)
    {
        try
        {
            _ = TokenInjector.Configuration.SidecarSettings.From(TokenInjector.Configuration.SidecarSettings.Command.Parse(args, _ => null), _ => null);
            return true;
        }
        catch (TokenInjector.Configuration.ConfigurationErrorException)
        {
            return false;
        }
    }

    private static List<string> PodMutatorArgs()
    {
        var decision = TokenInjector.Webhook.PodAdmission.Decide(
            InjectionAnnotationsTests.Pod(new() { ["token-injector.dev/routes"] = "8080=https://svc-abc123-uc.a.run.app" }),
            PodMutatorGoldenTests.Defaults);
        var added = decision.Patch!.Single(op => op!["path"]!.GetValue<string>() == "/spec/initContainers")!["value"]![0]!;
        return added["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
    }

    private static JsonNode PodWithTokenDir(string path)
    {
        var pod = JsonNode.Parse("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"app-","labels":{"token-injector.dev/inject":"true"},
             "annotations":{"token-injector.dev/audiences":"https://svc-abc123-uc.a.run.app"}},
             "spec":{"securityContext":{"fsGroup":2000},
               "containers":[{"name":"app","image":"app:1","volumeMounts":[{"name":"data","mountPath":"/data/"}]},
                             {"name":"worker","image":"worker:1","volumeMounts":[{"name":"cache","mountPath":"/cache/app"}]}],
               "volumes":[{"name":"data","emptyDir":{}},{"name":"cache","emptyDir":{}}]}}
            """)!;
        pod["metadata"]!["annotations"]!["token-injector.dev/token-dir"] = path;
        pod["metadata"]!["annotations"]!["token-injector.dev/containers"] = "app";
        return pod;
    }

    private static JsonNode WithPodSecurity(string securityContext)
    {
        var pod = RunningWebhook.GoldenInput("controller-generate-name");
        pod["spec"]!["securityContext"] = JsonNode.Parse(securityContext);
        return pod;
    }

    private static JsonNode WithPrivilegedApp()
    {
        var pod = RunningWebhook.GoldenInput("controller-generate-name");
        pod["spec"]!["hostPID"] = true;
        foreach (var container in pod["spec"]!["containers"]!.AsArray())
        {
            container!["securityContext"] = JsonNode.Parse("""{"privileged":true,"runAsUser":0,"capabilities":{"add":["NET_ADMIN","SYS_ADMIN"]}}""");
        }

        return pod;
    }
}
