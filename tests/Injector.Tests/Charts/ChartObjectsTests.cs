using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Charts;

/// <summary>What the chart renders, read from the objects Helm produces: images, names, certificates, selectors,
/// the webhook pods' shutdown, the guards on missing CRDs, and the promises values.yaml's comments make.</summary>
public sealed class ChartObjectsTests
{
    private const string DigestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string DigestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    public static TheoryData<string, string, string, string> ImageCases() => new()
    {
        // name, values, expected webhook image, expected sidecar image ({repo} and {app}: the chart's defaults)
        { "defaults", "{}", "{repo}:{app}", "{repo}:{app}" },
        { "digest pins both", """{"image":{"digest":"@A"}}""", "{repo}@" + DigestA, "{repo}@" + DigestA },
        { "tag shown beside the digest", """{"image":{"tag":"1.0","digest":"@A"}}""", "{repo}:1.0@" + DigestA, "{repo}:1.0@" + DigestA },
        { "another sidecar repository never takes the webhook's digest", """{"image":{"digest":"@A"},"sidecar":{"image":{"repository":"other/repo"}}}""", "{repo}@" + DigestA, "other/repo:{app}" },
        { "a sidecar tag is not hidden by the webhook's digest", """{"image":{"digest":"@A"},"sidecar":{"image":{"tag":"v2"}}}""", "{repo}@" + DigestA, "{repo}:v2" },
        { "a sidecar digest of its own", """{"sidecar":{"image":{"digest":"@B"}}}""", "{repo}:{app}", "{repo}@" + DigestB },
        { "a sidecar tag and digest", """{"image":{"digest":"@A"},"sidecar":{"image":{"tag":"v2","digest":"@B"}}}""", "{repo}@" + DigestA, "{repo}:v2@" + DigestB },
        { "a mirror keeps the version tag", """{"image":{"tag":"1.0"},"sidecar":{"image":{"repository":"mirror/injector"}}}""", "{repo}:1.0", "mirror/injector:1.0" },
    };

    [Theory]
    [MemberData(nameof(ImageCases))]
    public async Task Images_DigestsStayWithTheirRepositoryAndTagsAreNeverDropped(string name, string values, string webhook, string sidecar)
    {
        var rendering = await Helm.RenderAsync(JsonNode.Parse(values.Replace("@A", DigestA, StringComparison.Ordinal).Replace("@B", DigestB, StringComparison.Ordinal))!.AsObject());

        Assert.True(Expand(webhook) == rendering.WebhookContainer["image"]!.GetValue<string>(), name);
        Assert.True(Expand(sidecar) == rendering.WebhookArg("sidecar-image"), $"{name}: --sidecar-image={rendering.WebhookArg("sidecar-image")}");
    }

    [Fact]
    public async Task ClusterScopedNames_DifferBetweenTwoNamespacesWithOneReleaseName()
    {
        var values = ValueSets.All["Managed Service for Prometheus, cluster-wide"];
        var longName = new JsonObject { ["fullnameOverride"] = new string('x', 60) };
        var renders = new[]
        {
            await Helm.RenderAsync(values, @namespace: "team-a"), await Helm.RenderAsync(values, @namespace: "team-b"),
            await Helm.RenderAsync(longName, @namespace: "team-a-with-a-long-namespace-name"), await Helm.RenderAsync(longName, @namespace: "team-b-with-a-long-namespace-name"),
        };

        foreach (var pair in new[] { (renders[0], renders[1]), (renders[2], renders[3]) })
        {
            var first = ClusterScoped(pair.Item1);
            var second = ClusterScoped(pair.Item2);
            Assert.Contains("MutatingWebhookConfiguration", first.Select(n => n.Split('/')[0]));
            Assert.Empty(first.Intersect(second));
            Assert.All(first.Concat(second), n => Assert.True(n.Split('/')[1].Length <= 63, n));
        }

        var binding = renders[0].Single("ClusterRoleBinding");
        Assert.Equal(Rendering.Name(renders[0].Single("ClusterRole")), binding["roleRef"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task CertificateModes_TheGeneratedSecretIsNeverOneCertManagerWrites()
    {
        var certManager = await Helm.RenderAsync(ValueSets.All["cert-manager with the chart's own CA"]);
        var generated = await Helm.RenderAsync();

        var written = certManager.OfKind("Certificate").Select(c => c["spec"]!["secretName"]!.GetValue<string>()).ToList();
        var rendered = generated.OfKind("Secret").Select(Rendering.Name).ToList();

        Assert.Equal(2, written.Count);
        Assert.Single(rendered);
        Assert.Empty(written.Intersect(rendered));
        Assert.Contains(MountedSecret(certManager), written);
        Assert.Equal(MountedSecret(generated), Assert.Single(rendered));
    }

    [Fact]
    public async Task GeneratedCertificate_IsServedForTheServiceAndTrustedThroughTheCaBundle()
    {
        var rendering = await Helm.RenderAsync();
        var secret = rendering.Single("Secret");
        var webhook = rendering.Single("MutatingWebhookConfiguration")["webhooks"]![0]!;
        var service = rendering.Single("Service");

        Assert.Equal(secret["data"]!["ca.crt"]!.GetValue<string>(), webhook["clientConfig"]!["caBundle"]!.GetValue<string>());
        using var authority = X509Certificate2.CreateFromPem(Decode(secret["data"]!["ca.crt"]!));
        using var serving = X509Certificate2.CreateFromPem(Decode(secret["data"]!["tls.crt"]!), Decode(secret["data"]!["tls.key"]!));
        using var chain = new X509Chain { ChainPolicy = { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck } };
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        Assert.True(chain.Build(serving));
        Assert.True(serving.MatchesHostname($"{Rendering.Name(service)}.{Helm.Namespace}.svc"));
        Assert.Equal("kubernetes.io/tls", secret["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task CertManager_FillsTheCaBundleOfTheWebhookFromItsCertificate()
    {
        var rendering = await Helm.RenderAsync(ValueSets.All["cert-manager with an external cluster issuer"]);
        var configuration = rendering.Single("MutatingWebhookConfiguration");
        var certificate = rendering.Single("Certificate");

        Assert.Null(configuration["webhooks"]![0]!["clientConfig"]!["caBundle"]);
        Assert.Equal($"{Helm.Namespace}/{Rendering.Name(certificate)}", configuration["metadata"]!["annotations"]!["cert-manager.io/inject-ca-from"]!.GetValue<string>());
        Assert.Equal("GoogleCASClusterIssuer", certificate["spec"]!["issuerRef"]!["kind"]!.GetValue<string>());
        Assert.Empty(rendering.OfKind("Issuer"));
    }

    [Fact]
    public async Task MutatingWebhookConfiguration_SendsOnlyOptedInPodCreationsOutsideExcludedNamespacesToTheService()
    {
        var rendering = await Helm.RenderAsync(ValueSets.All["every plain value changed"]);
        var webhook = rendering.Single("MutatingWebhookConfiguration")["webhooks"]!.AsArray().Single()!;
        var service = rendering.Single("Service");

        Assert.Equal("""{"matchLabels":{"token-injector.dev/inject":"true"}}""", webhook["objectSelector"]!.ToJsonString());
        Assert.Equal(
            $$"""{"matchExpressions":[{"key":"kubernetes.io/metadata.name","operator":"NotIn","values":["kube-system","{{Helm.Namespace}}","legacy"]}]}""",
            webhook["namespaceSelector"]!.ToJsonString());
        Assert.Equal("""[{"apiGroups":[""],"apiVersions":["v1"],"operations":["CREATE"],"resources":["pods"],"scope":"Namespaced"}]""", webhook["rules"]!.ToJsonString());
        Assert.Equal("None", webhook["sideEffects"]!.GetValue<string>());
        Assert.Equal("Ignore", webhook["failurePolicy"]!.GetValue<string>());
        Assert.Equal("Never", webhook["reinvocationPolicy"]!.GetValue<string>());
        Assert.Equal(10, webhook["timeoutSeconds"]!.GetValue<long>());
        var target = webhook["clientConfig"]!["service"]!;
        Assert.Equal(Rendering.Name(service), target["name"]!.GetValue<string>());
        Assert.Equal(Helm.Namespace, target["namespace"]!.GetValue<string>());
        Assert.Equal("/mutate", target["path"]!.GetValue<string>());
        Assert.Contains(service["spec"]!["ports"]!.AsArray(), p => p!["port"]!.GetValue<long>() == target["port"]!.GetValue<long>());
    }

    [Fact]
    public async Task WebhookPods_KeepServingThroughTheShutdownDelayAndDrainWithinTheGracePeriod()
    {
        var defaults = await Helm.RenderAsync();
        var off = await Helm.RenderAsync(ValueSets.Setting("webhook.shutdownDelaySeconds", 0));

        var sleep = defaults.WebhookContainer["lifecycle"]!["preStop"]!["sleep"]!["seconds"]!.GetValue<long>();
        Assert.Equal(ChartFiles.Values()["webhook"]!["shutdownDelaySeconds"]!.GetValue<long>(), sleep);
        Assert.True(defaults.Single("Deployment")["spec"]!["template"]!["spec"]!["terminationGracePeriodSeconds"]!.GetValue<long>() >= sleep + 30);
        Assert.Null(off.WebhookContainer["lifecycle"]);
    }

    public static TheoryData<string, string, string> CrdSwitches() => new()
    {
        { """{"certManager":{"enabled":true}}""", "cert-manager.io/v1/Certificate", "certManager.enabled" },
        { """{"monitoring":{"prometheusOperator":{"monitors":true}}}""", "monitoring.coreos.com/v1/PodMonitor", "monitoring.prometheusOperator.monitors" },
        { """{"monitoring":{"prometheusOperator":{"alerts":true}}}""", "monitoring.coreos.com/v1/PrometheusRule", "monitoring.prometheusOperator.alerts" },
        { """{"monitoring":{"googleManagedPrometheus":{"monitors":true}}}""", "monitoring.googleapis.com/v1/ClusterPodMonitoring", "monitoring.googleManagedPrometheus.monitors" },
        { """{"monitoring":{"googleManagedPrometheus":{"monitors":true,"namespaces":["orders"]}}}""", "monitoring.googleapis.com/v1/PodMonitoring", "monitoring.googleManagedPrometheus.monitors" },
        { """{"monitoring":{"googleManagedPrometheus":{"alerts":true}}}""", "monitoring.googleapis.com/v1/ClusterRules", "monitoring.googleManagedPrometheus.alerts" },
        { """{"monitoring":{"googleManagedPrometheus":{"alerts":true,"namespaces":["orders"]}}}""", "monitoring.googleapis.com/v1/Rules", "monitoring.googleManagedPrometheus.alerts" },
    };

    [Theory]
    [MemberData(nameof(CrdSwitches))]
    public async Task MissingCrds_StopTheInstallWithAMessageNamingTheValueAndTheApi(string values, string api, string value)
    {
        var withoutIt = await Helm.TemplateAsync(4, JsonNode.Parse(values)!.AsObject(), Helm.CrdApis.Where(a => a != api));
        var withIt = await Helm.TemplateAsync(4, JsonNode.Parse(values)!.AsObject(), [api, .. Helm.CrdApis]);

        Assert.NotEqual(0, withoutIt.ExitCode);
        Assert.Contains($"{value} needs the {api} API, which this cluster does not serve", withoutIt.Stderr, StringComparison.Ordinal);
        Assert.Contains($"--api-versions {api}", withoutIt.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, withIt.ExitCode);
    }

    [Fact]
    public async Task ServiceAccountName_DefaultIsTheOneValuesYamlDescribes()
    {
        var rendering = await Helm.RenderAsync();
        var comment = CommentOf("serviceAccount", "name");

        var account = Rendering.Name(rendering.Single("ServiceAccount", $"{Helm.Release}-token-injector-webhook"));
        Assert.Equal(account, rendering.Single("Deployment")["spec"]!["template"]!["spec"]!["serviceAccountName"]!.GetValue<string>());
        Assert.Equal(Rendering.Name(rendering.Single("Deployment")), account);
        Assert.Contains("<fullname>-webhook", comment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidityDays_AlsoSetsTheCertManagerCaLifetimeAsValuesYamlSays()
    {
        var rendering = await Helm.RenderAsync(ValueSets.All["cert-manager with the chart's own CA"]);

        var authority = Assert.Single(rendering.OfKind("Certificate"), c => c["spec"]!["isCA"]?.GetValue<bool>() == true);
        Assert.Equal("17520h", authority["spec"]!["duration"]!.GetValue<string>());
        Assert.Contains("cert-manager", CommentOf("certificate", "validityDays"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryPod_RunsLockedDown()
    {
        var rendering = await Helm.RenderAsync();
        var pods = rendering.OfKind("Deployment").Select(d => d["spec"]!["template"]!["spec"]!).Concat(rendering.OfKind("Pod").Select(p => p["spec"]!)).ToList();

        Assert.Equal(2, pods.Count);
        Assert.All(pods, pod =>
        {
            Assert.True(pod["securityContext"]!["runAsNonRoot"]!.GetValue<bool>());
            Assert.Equal("RuntimeDefault", pod["securityContext"]!["seccompProfile"]!["type"]!.GetValue<string>());
            Assert.All(pod["containers"]!.AsArray(), c =>
            {
                var context = c!["securityContext"]!;
                Assert.True(context["readOnlyRootFilesystem"]!.GetValue<bool>());
                Assert.False(context["allowPrivilegeEscalation"]!.GetValue<bool>());
                Assert.Equal("""["ALL"]""", context["capabilities"]!["drop"]!.ToJsonString());
                Assert.NotNull(c["resources"]!["limits"]!["memory"]);
            });
        });
    }

    [Fact]
    public async Task SidecarMonitors_ScrapeThePortTheWebhookNamesAndDefaultsMatchTheWebhooks()
    {
        var rendering = await Helm.RenderAsync(ValueSets.All["Prometheus Operator and the Grafana dashboard"]);
        var gmp = await Helm.RenderAsync(ValueSets.All["Managed Service for Prometheus, per namespace"]);
        var sidecar = ChartFiles.Values()["sidecar"]!;

        Assert.Equal(PodMutator.AdminPortName, rendering.Single("PodMonitor")["spec"]!["podMetricsEndpoints"]![0]!["port"]!.GetValue<string>());
        Assert.All(gmp.OfKind("PodMonitoring").Where(p => Rendering.NamespaceOf(p) != Helm.Namespace), p =>
            Assert.Equal(PodMutator.AdminPortName, p["spec"]!["endpoints"]![0]!["port"]!.GetValue<string>()));
        Assert.Equal(["billing", "orders"], gmp.OfKind("PodMonitoring").Select(Rendering.NamespaceOf).Where(n => n != Helm.Namespace).Order());
        foreach (var (option, value) in new[] { ("sidecar-admin-port", "adminPort"), ("sidecar-cpu-request", "cpuRequest"), ("sidecar-memory-request", "memoryRequest"), ("sidecar-memory-limit", "memoryLimit"), ("sidecar-log-format", "logFormat") })
        {
            Assert.Equal(WebhookSettings.Command.Find(option)!.Default, sidecar[value]!.ToString());
        }
    }

    [Fact]
    public async Task WebhookMonitors_VerifyTheServingCertificateWithItsCa()
    {
        var operatorRender = await Helm.RenderAsync(ValueSets.All["Prometheus Operator and the Grafana dashboard"]);
        var gmpRender = await Helm.RenderAsync(ValueSets.All["Managed Service for Prometheus, cluster-wide"]);
        var serverName = $"{Rendering.Name(operatorRender.Single("Service"))}.{Helm.Namespace}.svc";

        var serviceMonitor = operatorRender.Single("ServiceMonitor")["spec"]!["endpoints"]![0]!;
        var podMonitoring = gmpRender.Single("PodMonitoring")["spec"]!["endpoints"]![0]!;
        foreach (var (endpoint, tls, secret) in new[] { (serviceMonitor, "tlsConfig", MountedSecret(operatorRender)), (podMonitoring, "tls", MountedSecret(gmpRender)) })
        {
            Assert.Equal("https", endpoint["scheme"]!.GetValue<string>());
            Assert.Equal(serverName, endpoint[tls]!["serverName"]!.GetValue<string>());
            Assert.Equal(secret, endpoint[tls]!["ca"]!["secret"]!["name"]!.GetValue<string>());
            Assert.Equal("ca.crt", endpoint[tls]!["ca"]!["secret"]!["key"]!.GetValue<string>());
            Assert.Null(endpoint[tls]!["insecureSkipVerify"]);
        }
    }

    [Fact]
    public async Task Alerts_AreTheSameGroupsInEveryRuleKind()
    {
        var operatorRules = (await Helm.RenderAsync(ValueSets.All["Prometheus Operator and the Grafana dashboard"])).Single("PrometheusRule")["spec"]!;
        var clusterRules = (await Helm.RenderAsync(ValueSets.All["Managed Service for Prometheus, cluster-wide"])).Single("ClusterRules")["spec"]!;
        var perNamespace = (await Helm.RenderAsync(ValueSets.All["Managed Service for Prometheus, per namespace"])).OfKind("Rules").ToList();
        var file = YamlJson.Parse(File.ReadAllText(Path.Combine(Helm.Chart, "files", "alerts.yaml")))!;

        Assert.True(JsonNode.DeepEquals(file, operatorRules));
        Assert.True(JsonNode.DeepEquals(file, clusterRules));
        Assert.Equal(3, perNamespace.Count);
        var groups = perNamespace.SelectMany(r => r["spec"]!["groups"]!.AsArray()).Select(g => g!["name"]!.GetValue<string>()).Order();
        Assert.Equal(["token-injector-sidecar", "token-injector-sidecar", "token-injector-webhook"], groups);
        Assert.Equal("token-injector-webhook", Assert.Single(perNamespace, r => Rendering.NamespaceOf(r) == Helm.Namespace)["spec"]!["groups"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task GrafanaDashboard_ShipsInALabelledConfigMap()
    {
        var rendering = await Helm.RenderAsync(ValueSets.All["Prometheus Operator and the Grafana dashboard"]);
        var map = rendering.Single("ConfigMap");

        Assert.Equal("monitoring", Rendering.NamespaceOf(map));
        Assert.Equal("platform", map["metadata"]!["labels"]!["grafana_dashboard"]!.GetValue<string>());
        Assert.Equal("token-injector", map["metadata"]!["annotations"]!["grafana_folder"]!.GetValue<string>());
        var dashboard = JsonNode.Parse(map["data"]!["token-injector.json"]!.GetValue<string>())!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(Path.Combine(Helm.Chart, "files", "dashboard.json"))), dashboard));
    }

    [Fact]
    public async Task HelmTest_MayOnlyCreatePodsInTheNamespaceItDryRunsIn()
    {
        var rendering = await Helm.RenderAsync(ValueSets.All["every plain value changed"]);
        var hooks = rendering.TestHooks.ToList();
        var pod = rendering.Single("Pod");
        var role = rendering.Single("Role");
        var binding = rendering.Single("RoleBinding");

        Assert.Equal(["ServiceAccount", "Role", "RoleBinding", "Pod"], hooks.Select(Rendering.Kind));
        Assert.Equal("""[{"apiGroups":[""],"resources":["pods"],"verbs":["create"]}]""", role["rules"]!.ToJsonString());
        Assert.Equal("apps", Rendering.NamespaceOf(role));
        Assert.Equal("apps", Rendering.NamespaceOf(binding));
        Assert.Equal(pod["spec"]!["serviceAccountName"]!.GetValue<string>(), binding["subjects"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(Helm.Namespace, binding["subjects"]![0]!["namespace"]!.GetValue<string>());
        Assert.DoesNotContain(rendering.OfKind("ClusterRoleBinding"), b => b["subjects"]![0]!["name"]!.GetValue<string>() == pod["spec"]!["serviceAccountName"]!.GetValue<string>());
        Assert.Equal("""["kubectl"]""", pod["spec"]!["containers"]![0]!["command"]!.ToJsonString());
        Assert.Contains("--namespace=apps", pod["spec"]!["containers"]![0]!["args"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public async Task HelmTest_RefusesANamespaceTheWebhookNeverInjects()
    {
        foreach (var @namespace in new[] { "kube-system", Helm.Namespace, "legacy" })
        {
            var values = new JsonObject { ["webhook"] = new JsonObject { ["excludeNamespaces"] = new JsonArray("legacy") }, ["test"] = new JsonObject { ["namespace"] = @namespace } };

            var result = await Helm.TemplateAsync(4, values, Helm.CrdApis);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains($"test.namespace \"{@namespace}\" is a namespace the webhook never injects into", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Notes_WarnOnEachRiskySettingAndOnlyThen()
    {
        var quiet = await Helm.NotesAsync(null);
        var risky = await Helm.NotesAsync(JsonNode.Parse("""
            {"webhook":{"failurePolicy":"Ignore","replicas":1,"timeoutSeconds":20,"podDisruptionBudget":{"enabled":false},"allowHostNetwork":true},
             "image":{"tag":"latest"}}
            """)!.AsObject());
        var blocking = await Helm.NotesAsync(JsonNode.Parse("""{"webhook":{"podDisruptionBudget":{"minAvailable":2}}}""")!.AsObject());

        Assert.DoesNotContain("WARNING", quiet, StringComparison.Ordinal);
        foreach (var expected in new[] { "webhook.failurePolicy is Ignore", "webhook.replicas is 1", "podDisruptionBudget.enabled is false", "webhook.timeoutSeconds is 20", "is not pinned", "webhook.allowHostNetwork is true" })
        {
            Assert.Contains(expected, risky, StringComparison.Ordinal);
        }

        Assert.Contains("is not below webhook.replicas", blocking, StringComparison.Ordinal);
    }

    private static string Expand(string image)
    {
        var chart = YamlJson.Parse(File.ReadAllText(Path.Combine(Helm.Chart, "Chart.yaml")))!;
        return image.Replace("{repo}", ChartFiles.Values()["image"]!["repository"]!.GetValue<string>(), StringComparison.Ordinal)
            .Replace("{app}", chart["appVersion"]!.ToString(), StringComparison.Ordinal);
    }

    private static IReadOnlyList<string> ClusterScoped(Rendering rendering) => rendering.Objects
        .Where(o => Rendering.NamespaceOf(o) is null)
        .Select(o => $"{Rendering.Kind(o)}/{Rendering.Name(o)}")
        .ToList();

    private static string MountedSecret(Rendering rendering) =>
        rendering.Single("Deployment")["spec"]!["template"]!["spec"]!["volumes"]!.AsArray()
            .Single(v => v!["name"]!.GetValue<string>() == "tls")!["secret"]!["secretName"]!.GetValue<string>();

    private static string Decode(JsonNode base64) => Encoding.ASCII.GetString(Convert.FromBase64String(base64.GetValue<string>()));

    /// <summary>The '# --' comment of a key of values.yaml, under one parent key.</summary>
    private static string CommentOf(string parent, string key)
    {
        var lines = File.ReadAllLines(Path.Combine(Helm.Chart, "values.yaml"));
        var start = Array.FindIndex(lines, l => l == parent + ":");
        var index = Array.FindIndex(lines, start, l => l.TrimStart().StartsWith(key + ":", StringComparison.Ordinal));
        return lines[index - 1];
    }
}
