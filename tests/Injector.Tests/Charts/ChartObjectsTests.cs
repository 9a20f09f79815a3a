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
    public async Task CertificateModes_EachServesFromASecretOfItsOwnAndNoneIsRendered()
    {
        var selfManaged = await Helm.RenderAsync();
        var certManager = await Helm.RenderAsync(ValueSets.All["cert-manager with the chart's own CA"]);
        var brought = await Helm.RenderAsync(ValueSets.All["a Secret of your own"]);

        var written = certManager.OfKind("Certificate").Select(c => c["spec"]!["secretName"]!.GetValue<string>()).ToList();
        Assert.Equal(2, written.Count);
        Assert.Contains(ServingSecret(certManager), written);
        Assert.Equal("corp-webhook-tls", ServingSecret(brought));
        Assert.DoesNotContain(ServingSecret(selfManaged), written);
        Assert.All(new[] { selfManaged, certManager, brought }, r => Assert.Empty(r.OfKind("Secret")));
    }

    [Fact]
    public async Task SelfManaged_RendersNoKeyMaterial_AndHandsTheWebhookItsSecretNamesAndLifetimes()
    {
        var rendering = await Helm.RenderAsync();
        var without = await Helm.RenderAsync(ValueSets.Setting("webhook.validation.enabled", false));
        var service = Rendering.Name(rendering.Single("Service"));

        Assert.Empty(rendering.OfKind("Secret"));
        Assert.All(rendering.OfKind("MutatingWebhookConfiguration").Concat(rendering.OfKind("ValidatingWebhookConfiguration")), c =>
        {
            Assert.Null(c["metadata"]!["annotations"]);
            Assert.All(c["webhooks"]!.AsArray(), w => Assert.Null(w!["clientConfig"]!["caBundle"]));
        });
        var pod = rendering.Single("Deployment")["spec"]!["template"]!;
        Assert.Null(pod["metadata"]!["annotations"]);
        Assert.DoesNotContain(pod["spec"]!["volumes"]!.AsArray(), v => v!["secret"] is not null);
        Assert.DoesNotContain(rendering.WebhookArgs, a => a.StartsWith("--tls-cert-file", StringComparison.Ordinal) || a.StartsWith("--tls-key-file", StringComparison.Ordinal));

        Assert.Equal($"{Helm.Release}-token-injector-webhook-tls", rendering.WebhookArg("tls-secret"));
        Assert.Equal(
            [service, $"{service}.{Helm.Namespace}", $"{service}.{Helm.Namespace}.svc", $"{service}.{Helm.Namespace}.svc.cluster.local"],
            rendering.WebhookArgs.Where(a => a.StartsWith("--tls-dns-name=", StringComparison.Ordinal)).Select(a => a["--tls-dns-name=".Length..]));
        Assert.Equal(Rendering.Name(rendering.Single("MutatingWebhookConfiguration")), rendering.WebhookArg("mutating-webhook-configuration"));
        Assert.Equal(Rendering.Name(rendering.Single("ValidatingWebhookConfiguration")), rendering.WebhookArg("validating-webhook-configuration"));
        Assert.Equal(("8760h", "2160h", "720h"), (rendering.WebhookArg("ca-lifetime"), rendering.WebhookArg("serving-certificate-lifetime"), rendering.WebhookArg("renew-before")));
        Assert.Empty(without.OfKind("ValidatingWebhookConfiguration"));
        Assert.DoesNotContain(without.WebhookArgs, a => a.StartsWith("--validating-webhook-configuration", StringComparison.Ordinal));
        Assert.Equal("""["mutatingwebhookconfigurations"]""", without.Single("ClusterRole")["rules"]![1]!["resources"]!.ToJsonString());
    }

    [Fact]
    public async Task SelfManaged_Rbac_IsTheSecretByNameAndCreate_AndTheTwoConfigurationsByName()
    {
        var rendering = await Helm.RenderAsync();
        var certManager = await Helm.RenderAsync(ValueSets.All["cert-manager with an external cluster issuer"]);
        var configuration = Rendering.Name(rendering.Single("MutatingWebhookConfiguration"));
        var secret = rendering.WebhookArg("tls-secret");
        var account = rendering.Single("Deployment")["spec"]!["template"]!["spec"]!["serviceAccountName"]!.GetValue<string>();

        var role = rendering.Single("Role", $"{Helm.Release}-token-injector-webhook");
        Assert.Equal(Helm.Namespace, Rendering.NamespaceOf(role));
        Assert.Equal(
            $$"""[{"apiGroups":[""],"resources":["secrets"],"verbs":["get","update"],"resourceNames":["{{secret}}"]},{"apiGroups":[""],"resources":["secrets"],"verbs":["create"]}]""",
            role["rules"]!.ToJsonString());
        Assert.Equal(
            $$"""[{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["get"]},{"apiGroups":["admissionregistration.k8s.io"],"resources":["mutatingwebhookconfigurations","validatingwebhookconfigurations"],"verbs":["get","update"],"resourceNames":["{{configuration}}"]}]""",
            rendering.Single("ClusterRole")["rules"]!.ToJsonString());
        Assert.Equal(configuration, Rendering.Name(rendering.Single("ValidatingWebhookConfiguration")));
        var binding = rendering.Single("RoleBinding", Rendering.Name(role));
        Assert.Equal(Rendering.Name(role), binding["roleRef"]!["name"]!.GetValue<string>());
        Assert.Equal($$"""[{"kind":"ServiceAccount","name":"{{account}}","namespace":"{{Helm.Namespace}}"}]""", binding["subjects"]!.ToJsonString());

        Assert.DoesNotContain(certManager.OfKind("Role"), r => Rendering.NamespaceOf(r) == Helm.Namespace);
        Assert.Equal("""[{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["get"]}]""", certManager.Single("ClusterRole")["rules"]!.ToJsonString());
    }

    public static TheoryData<int, string> RendersToRepeat()
    {
        var data = new TheoryData<int, string>();
        foreach (var version in ChartTools.HelmVersions)
        {
            data.Add(version, "defaults");
            data.Add(version, "every plain value changed");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RendersToRepeat))]
    public async Task HelmTemplate_TwiceWithTheSameValues_GivesTheSameBytes(int helmVersion, string valueSet)
    {
        var first = await Helm.TemplateAgainAsync(helmVersion, ValueSets.All[valueSet]);
        var second = await Helm.TemplateAgainAsync(helmVersion, ValueSets.All[valueSet]);

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("kind: MutatingWebhookConfiguration", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(first.Stdout, second.Stdout);
    }

    public static TheoryData<string, string> CertificateValueConflicts() => new()
    {
        { """{"certificate":{"renewBefore":"2160h"}}""", "certificate.renewBefore (2160h) must be less than certificate.servingLifetime (2160h)" },
        { """{"certificate":{"renewBefore":"9000h","servingLifetime":"10000h"}}""", "certificate.renewBefore (9000h) must be less than certificate.caLifetime (8760h)" },
        { """{"certificate":{"mode":"certManager","servingLifetime":"60m","renewBefore":"3600s"}}""", "certificate.renewBefore (3600s) must be less than certificate.servingLifetime (60m)" },
        { """{"certificate":{"mode":"secret","caBundle":"QUJD"}}""", "certificate.existingSecret is required when certificate.mode is secret" },
        { """{"certificate":{"mode":"secret","existingSecret":"mine"}}""", "certificate.caBundle is required when certificate.mode is secret" },
    };

    [Theory]
    [MemberData(nameof(CertificateValueConflicts))]
    public async Task CertificateValues_ThatCannotWorkTogether_StopTheRenderSayingWhy(string values, string message)
    {
        var result = await Helm.TemplateAsync(4, JsonNode.Parse(values)!.AsObject(), Helm.CrdApis);
        var justInside = await Helm.TemplateAsync(4, ValueSets.Setting("certificate.renewBefore", "2159h"), Helm.CrdApis);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, justInside.ExitCode);
    }

    [Fact]
    public async Task CertManager_FillsTheCaBundleOfBothConfigurationsFromItsCertificate()
    {
        var rendering = await Helm.RenderAsync(ValueSets.All["cert-manager with an external cluster issuer"]);
        var certificate = rendering.Single("Certificate");

        foreach (var configuration in new[] { rendering.Single("MutatingWebhookConfiguration"), rendering.Single("ValidatingWebhookConfiguration") })
        {
            Assert.Null(configuration["webhooks"]![0]!["clientConfig"]!["caBundle"]);
            Assert.Equal($"{Helm.Namespace}/{Rendering.Name(certificate)}", configuration["metadata"]!["annotations"]!["cert-manager.io/inject-ca-from"]!.GetValue<string>());
        }

        Assert.Equal("GoogleCASClusterIssuer", certificate["spec"]!["issuerRef"]!["kind"]!.GetValue<string>());
        Assert.Equal(("2160h", "720h"), (certificate["spec"]!["duration"]!.GetValue<string>(), certificate["spec"]!["renewBefore"]!.GetValue<string>()));
        Assert.Empty(rendering.OfKind("Issuer"));
        Assert.Equal(["--tls-cert-file=/etc/token-injector/tls/tls.crt", "--tls-key-file=/etc/token-injector/tls/tls.key"], rendering.WebhookArgs.Where(a => a.StartsWith("--tls", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SecretMode_MountsTheBroughtSecretAndWritesItsCaIntoBothConfigurations()
    {
        var rendering = await Helm.RenderAsync(ValueSets.All["a Secret of your own"]);
        var mount = rendering.WebhookContainer["volumeMounts"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "tls")!["mountPath"]!.GetValue<string>();

        Assert.Equal("corp-webhook-tls", ServingSecret(rendering));
        Assert.Equal([$"--tls-cert-file={mount}/tls.crt", $"--tls-key-file={mount}/tls.key"], rendering.WebhookArgs.Where(a => a.StartsWith("--tls", StringComparison.Ordinal)));
        foreach (var configuration in new[] { rendering.Single("MutatingWebhookConfiguration"), rendering.Single("ValidatingWebhookConfiguration") })
        {
            Assert.Equal("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==", configuration["webhooks"]![0]!["clientConfig"]!["caBundle"]!.GetValue<string>());
            Assert.Null(configuration["metadata"]!["annotations"]);
        }

        Assert.DoesNotContain(rendering.OfKind("Role"), r => Rendering.NamespaceOf(r) == Helm.Namespace);
    }

    [Fact]
    public async Task ValidatingWebhookConfiguration_SendsWorkloadTemplatesThatAskForInjection_ToValidate_AndNeverBlocks()
    {
        var rendering = await Helm.RenderAsync(ValueSets.Setting("webhook.excludeNamespaces", new JsonArray("legacy")));
        var mutating = rendering.Single("MutatingWebhookConfiguration")["webhooks"]![0]!;
        var webhook = rendering.Single("ValidatingWebhookConfiguration")["webhooks"]!.AsArray().Single()!;

        Assert.Equal("validate.token-injector.dev", webhook["name"]!.GetValue<string>());
        Assert.Equal("Ignore", webhook["failurePolicy"]!.GetValue<string>());
        Assert.Equal("None", webhook["sideEffects"]!.GetValue<string>());
        Assert.Equal(3, webhook["timeoutSeconds"]!.GetValue<long>());
        var sameService = mutating["clientConfig"]!["service"]!.DeepClone();
        sameService["path"] = "/validate";
        Assert.True(JsonNode.DeepEquals(sameService, webhook["clientConfig"]!["service"]));
        Assert.True(JsonNode.DeepEquals(mutating["namespaceSelector"], webhook["namespaceSelector"]));
        Assert.Contains("legacy", webhook["namespaceSelector"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(
            """[{"apiGroups":["apps"],"apiVersions":["v1"],"operations":["CREATE","UPDATE"],"resources":["deployments","statefulsets","daemonsets","replicasets"],"scope":"Namespaced"},{"apiGroups":["batch"],"apiVersions":["v1"],"operations":["CREATE","UPDATE"],"resources":["jobs","cronjobs"],"scope":"Namespaced"}]""",
            webhook["rules"]!.ToJsonString());
        Assert.Null(webhook["objectSelector"]);

        // The condition reads the pod template where each kind keeps it, with the label and value the mutating webhook
        // selects on. matchConditions are GA from Kubernetes 1.30, the chart's floor.
        var condition = webhook["matchConditions"]!.AsArray().Single()!["expression"]!.GetValue<string>();
        var label = mutating["objectSelector"]!["matchLabels"]!.AsObject().Single();
        Assert.Contains("request.resource.resource == 'cronjobs'", condition, StringComparison.Ordinal);
        Assert.Contains($"object.spec.jobTemplate.spec.template.metadata.labels['{label.Key}'] == '{label.Value}'", condition, StringComparison.Ordinal);
        Assert.Contains($"object.spec.template.metadata.labels['{label.Key}'] == '{label.Value}'", condition, StringComparison.Ordinal);
        Assert.Equal(">=1.30.0-0", YamlJson.Parse(File.ReadAllText(Path.Combine(Helm.Chart, "Chart.yaml")))!["kubeVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task NetworkPolicy_IsOffByDefault_AndOpensTheWebhookPortAndOnlyTheApiServerAndDns()
    {
        var off = await Helm.RenderAsync();
        var any = await Helm.RenderAsync(ValueSets.Setting("networkPolicy.enabled", true));
        var narrowed = await Helm.RenderAsync(ValueSets.All["every plain value changed"]);

        Assert.Empty(off.OfKind("NetworkPolicy"));
        var policy = any.Single("NetworkPolicy")["spec"]!;
        Assert.True(JsonNode.DeepEquals(any.Single("Deployment")["spec"]!["selector"]!["matchLabels"], policy["podSelector"]!["matchLabels"]));
        Assert.Equal("""["Ingress","Egress"]""", policy["policyTypes"]!.ToJsonString());
        Assert.Equal("""[{"ports":[{"port":"https","protocol":"TCP"}]}]""", policy["ingress"]!.ToJsonString());
        Assert.Contains(any.WebhookContainer["ports"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "https");
        Assert.Equal("""{"ports":[{"port":443,"protocol":"TCP"},{"port":6443,"protocol":"TCP"}]}""", policy["egress"]![0]!.ToJsonString());
        Assert.Equal(
            """{"to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"kube-system"}},"podSelector":{"matchLabels":{"k8s-app":"kube-dns"}}},{"ipBlock":{"cidr":"169.254.169.254/32"}},{"ipBlock":{"cidr":"169.254.20.10/32"}}],"ports":[{"port":53,"protocol":"UDP"},{"port":53,"protocol":"TCP"}]}""",
            policy["egress"]![1]!.ToJsonString());
        Assert.Equal(2, policy["egress"]!.AsArray().Count);

        var egress = narrowed.Single("NetworkPolicy")["spec"]!["egress"]!;
        Assert.Equal("""{"ports":[{"port":443,"protocol":"TCP"}],"to":[{"ipBlock":{"cidr":"172.16.0.2/32"}}]}""", egress[0]!.ToJsonString());
        Assert.Single(egress[1]!["to"]!.AsArray());
    }

    public static TheoryData<int, string, string> ReleaseNamespaces()
    {
        var data = new TheoryData<int, string, string>();
        foreach (var version in ChartTools.HelmVersions)
        {
            data.Add(version, "default", "kube-public");
            data.Add(version, "platform", "default");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ReleaseNamespaces))]
    public async Task HelmTest_DryRunsInANamespaceTheWebhookInjects_WhereverTheReleaseIs(int helmVersion, string releaseNamespace, string dryRunNamespace)
    {
        var rendering = await Helm.RenderAsync(helmVersion, null, @namespace: releaseNamespace);
        var lint = await Helm.ExecAsync(helmVersion, ["lint", "--strict", Helm.Chart, "--namespace", releaseNamespace]);

        Assert.True(lint.ExitCode == 0, lint.Stdout + lint.Stderr);
        var excluded = rendering.Single("MutatingWebhookConfiguration")["webhooks"]![0]!["namespaceSelector"]!["matchExpressions"]![0]!["values"]!.AsArray().Select(v => v!.GetValue<string>());
        Assert.Equal(["kube-system", releaseNamespace], excluded);
        Assert.Equal(dryRunNamespace, Rendering.NamespaceOf(rendering.Single("Role", $"{Helm.Release}-token-injector-test")));
        Assert.Equal(dryRunNamespace, Rendering.NamespaceOf(rendering.Single("RoleBinding", $"{Helm.Release}-token-injector-test")));
        Assert.Contains($"--namespace={dryRunNamespace}", rendering.Single("Pod")["spec"]!["containers"]![0]!["args"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.All(rendering.Objects.Where(o => Rendering.Kind(o) is "Deployment" or "Service" or "Pod"), o => Assert.Equal(releaseNamespace, Rendering.NamespaceOf(o)));
    }

    [Fact]
    public async Task HelmTest_WithItsDefaultNamespaceExcluded_AsksForTestNamespace()
    {
        var result = await Helm.TemplateAsync(4, ValueSets.Setting("webhook.excludeNamespaces", new JsonArray("kube-public")), Helm.CrdApis, @namespace: "default");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("test.namespace \"kube-public\" is a namespace the webhook never injects into", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("set test.namespace to another one", result.Stderr, StringComparison.Ordinal);
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
        { """{"certificate":{"mode":"certManager"}}""", "cert-manager.io/v1/Certificate", "certificate.mode=certManager" },
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
    public async Task CaLifetime_AlsoSetsTheCertManagerCaLifetimeAsValuesYamlSays()
    {
        var rendering = await Helm.RenderAsync(ValueSets.All["cert-manager with the chart's own CA"]);

        var authority = Assert.Single(rendering.OfKind("Certificate"), c => c["spec"]!["isCA"]?.GetValue<bool>() == true);
        Assert.Equal("17520h", authority["spec"]!["duration"]!.GetValue<string>());
        Assert.Contains("cert-manager CA", CommentOf("certificate", "caLifetime"), StringComparison.Ordinal);
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
        foreach (var (endpoint, tls, secret) in new[] { (serviceMonitor, "tlsConfig", ServingSecret(operatorRender)), (podMonitoring, "tls", ServingSecret(gmpRender)) })
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
        var role = Assert.Single(hooks, h => Rendering.Kind(h) == "Role");
        var binding = Assert.Single(hooks, h => Rendering.Kind(h) == "RoleBinding");

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
            {"webhook":{"failurePolicy":"Ignore","replicas":1,"timeoutSeconds":20,"podDisruptionBudget":{"enabled":false},"allowHostNetwork":true,"validation":{"enabled":false},"port":9443},
             "image":{"tag":"latest"}}
            """)!.AsObject());
        var blocking = await Helm.NotesAsync(JsonNode.Parse("""{"webhook":{"podDisruptionBudget":{"minAvailable":2}}}""")!.AsObject());

        Assert.DoesNotContain("WARNING", quiet, StringComparison.Ordinal);
        Assert.Contains($"kubectl delete secret {Helm.Release}-token-injector-webhook-tls --namespace {Helm.Namespace}", quiet, StringComparison.Ordinal);
        Assert.Contains("/webhooks/*/clientConfig/caBundle", quiet, StringComparison.Ordinal);
        foreach (var expected in new[] { "webhook.failurePolicy is Ignore", "webhook.replicas is 1", "podDisruptionBudget.enabled is false", "webhook.timeoutSeconds is 20", "is not pinned", "webhook.allowHostNetwork is true", "webhook.validation.enabled is false", "webhook.port is 9443" })
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

    /// <summary>The Secret the webhook serves from: the one it keeps (selfManaged), or the one mounted as files.</summary>
    private static string ServingSecret(Rendering rendering) =>
        rendering.WebhookArgs.Any(a => a.StartsWith("--tls-secret=", StringComparison.Ordinal))
            ? rendering.WebhookArg("tls-secret")
            : rendering.Single("Deployment")["spec"]!["template"]!["spec"]!["volumes"]!.AsArray()
                .Single(v => v!["name"]!.GetValue<string>() == "tls")!["secret"]!["secretName"]!.GetValue<string>();

    /// <summary>The '# --' comment of a key of values.yaml, under one parent key.</summary>
    private static string CommentOf(string parent, string key)
    {
        var lines = File.ReadAllLines(Path.Combine(Helm.Chart, "values.yaml"));
        var start = Array.FindIndex(lines, l => l == parent + ":");
        var index = Array.FindIndex(lines, start, l => l.TrimStart().StartsWith(key + ":", StringComparison.Ordinal));
        return lines[index - 1];
    }
}
