using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NJsonSchema;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The chart read as files (there is no helm binary here): values against the schema, the schema's strictness,
/// comments on every value, templates that only use values that exist, and args the webhook accepts.
/// </summary>
public sealed partial class ChartTests
{
    private static readonly string Chart = RepositoryFiles.PathOf("charts", "token-injector");

    [Fact]
    public async Task ValuesYaml_ValidatesAgainstTheSchema()
    {
        var schema = await Schema();

        var errors = schema.Validate(Values().ToJsonString());

        Assert.Empty(errors.Select(e => e.ToString()));
    }

    public static TheoryData<string, string, string> BadValues() => new()
    {
        { "replicas as text", "webhook.replicas", "\"two\"" },
        { "replicas zero", "webhook.replicas", "0" },
        { "failure policy unknown", "webhook.failurePolicy", "\"Sometimes\"" },
        { "timeout too long", "webhook.timeoutSeconds", "31" },
        { "quantity not a quantity", "sidecar.cpuRequest", "\"lots\"" },
        { "quantity as number", "sidecar.memoryLimit", "128" },
        { "pull policy as number", "image.pullPolicy", "5" },
        { "boolean as text", "podMonitor.enabled", "\"yes\"" },
        { "unknown top-level key", "replicaCount", "2" },
        { "unknown nested key", "webhook.replica", "2" },
        { "unknown key in resources", "webhook.resources.requests.gpu", "\"1\"" },
        { "unknown key in issuerRef", "certManager.issuerRef.namespace", "\"x\"" },
        { "digest malformed", "image.digest", "\"latest\"" },
        { "duration malformed", "webhook.serviceAccountLookupTimeout", "\"2 seconds\"" },
        { "log format unknown", "sidecar.logFormat", "\"xml\"" },
        { "labels not strings", "podMonitor.labels", "{\"a\":1}" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task Schema_RejectsWrongTypesAndUnknownKeys(string name, string path, string json)
    {
        var schema = await Schema();
        var values = Values();
        Set(values, path, JsonNode.Parse(json));

        var errors = schema.Validate(values.ToJsonString());

        Assert.True(errors.Count > 0, $"{name}: {path}={json} was accepted");
    }

    [Fact]
    public void Schema_EveryObjectWithPropertiesForbidsOthers()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(Chart, "values.schema.json")))!;
        var loose = new List<string>();
        Walk(schema, "#");
        Assert.Empty(loose);

        void Walk(JsonNode? node, string where)
        {
            if (node is JsonObject o)
            {
                if (o.ContainsKey("properties") && (o["additionalProperties"] is not JsonValue v || v.GetValue<bool>()))
                {
                    loose.Add(where);
                }

                foreach (var (key, child) in o)
                {
                    Walk(child, where + "/" + key);
                }
            }
        }
    }

    [Fact]
    public void Schema_CoversEveryValue()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(Chart, "values.schema.json")))!;
        foreach (var path in LeafPaths(Values(), string.Empty))
        {
            JsonNode? node = schema;
            foreach (var part in path.Split('.'))
            {
                node = node?["properties"]?[part];
            }

            Assert.True(node is not null, $"values.schema.json does not describe {path}");
        }
    }

    [Fact]
    public void ValuesYaml_EveryKeyCarriesAComment()
    {
        var lines = File.ReadAllLines(Path.Combine(Chart, "values.yaml"));
        var uncommented = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (KeyLine().Match(lines[i]) is not { Success: true } key)
            {
                continue;
            }

            var previous = i - 1;
            while (previous >= 0 && lines[previous].Trim().Length == 0)
            {
                previous--;
            }

            var commentAbove = previous >= 0 && lines[previous].TrimStart().StartsWith('#') && i - previous == 1;
            if (!commentAbove && !lines[i].Contains(" # ", StringComparison.Ordinal))
            {
                uncommented.Add($"line {i + 1}: {key.Groups["key"].Value}");
            }
        }

        Assert.Empty(uncommented);
    }

    [Fact]
    public void Templates_ReferenceOnlyValuesThatExist()
    {
        var values = Values();
        var missing = new List<string>();
        var references = 0;
        foreach (var file in TemplateFiles())
        {
            foreach (Match match in ValuesReference().Matches(File.ReadAllText(file)))
            {
                references++;
                JsonNode? node = values;
                var path = match.Groups["path"].Value;
                foreach (var part in path.Split('.'))
                {
                    if (node is not JsonObject o || !o.ContainsKey(part))
                    {
                        missing.Add($"{Path.GetFileName(file)}: .Values.{path}");
                        break;
                    }

                    node = o[part];
                }
            }
        }

        Assert.True(references > 30, $"only {references} .Values references found: is the pattern right?");
        Assert.Empty(missing);
    }

    [Fact]
    public void ChartYaml_IsAValidV2Chart()
    {
        var chart = YamlJson.Parse(File.ReadAllText(Path.Combine(Chart, "Chart.yaml")))!.AsObject();

        Assert.Equal("v2", chart["apiVersion"]!.GetValue<string>());
        Assert.Equal("token-injector", chart["name"]!.GetValue<string>());
        Assert.Equal("application", chart["type"]!.GetValue<string>());
        Assert.Matches(SemVer(), chart["version"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(chart["appVersion"]?.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(chart["description"]?.GetValue<string>()));
        var known = new HashSet<string> { "apiVersion", "name", "version", "kubeVersion", "description", "type", "keywords", "home", "sources", "dependencies", "maintainers", "icon", "appVersion", "deprecated", "annotations" };
        Assert.All(chart.Select(p => p.Key), key => Assert.Contains(key, known));
    }

    [Fact]
    public void Templates_AreNamedComponentDashKind()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Chart, "templates"), "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Path.Combine(Chart, "templates"), file).Replace('\\', '/');
            Assert.Matches(TemplateName(), relative);
        }
    }

    [Fact]
    public void Helpers_AreDocumentedAndEveryIncludeIsDefined()
    {
        var helpers = File.ReadAllText(Path.Combine(Chart, "templates", "_helpers.tpl"));
        var defined = Define().Matches(helpers).Select(m => m.Groups["name"].Value).ToHashSet();
        Assert.NotEmpty(defined);
        foreach (var name in defined)
        {
            // The comment block right above each define names the helper it documents.
            Assert.Matches(new Regex(@"\{\{/\*\s*\n" + Regex.Escape(name) + @":[^*]*\*/\}\}\s*\n\{\{-? define """ + Regex.Escape(name) + "\""), helpers);
        }

        foreach (var file in TemplateFiles())
        {
            foreach (Match include in Include().Matches(File.ReadAllText(file)))
            {
                Assert.Contains(include.Groups["name"].Value, defined);
            }
        }
    }

    [Fact]
    public void Templates_HaveBalancedActionsAndBlocks()
    {
        foreach (var file in TemplateFiles())
        {
            var text = File.ReadAllText(file);
            Assert.True(Count(text, "{{") == Count(text, "}}"), $"{Path.GetFileName(file)}: unbalanced {{{{ }}}}");
            var opened = BlockOpen().Count(text);
            var closed = BlockEnd().Count(text);
            Assert.True(opened == closed, $"{Path.GetFileName(file)}: {opened} blocks opened, {closed} ended");
        }
    }

    [Fact]
    public void Deployment_ArgsAreOptionsTheWebhookAccepts()
    {
        var deployment = File.ReadAllText(Path.Combine(Chart, "templates", "webhook-deployment.yaml"));
        var flags = ArgFlag().Matches(deployment).Select(m => m.Groups["name"].Value).ToList();

        Assert.Contains("- webhook", deployment, StringComparison.Ordinal);
        Assert.All(flags, flag => Assert.NotNull(WebhookSettings.Command.Find(flag)));
        Assert.Equal(flags.Count, flags.Distinct().Count());
        foreach (var required in new[] { "listen", "tls-cert-file", "tls-key-file", "sidecar-image", "sidecar-admin-port", "prometheus-scrape" })
        {
            Assert.Contains(required, flags);
        }

        // A webhook started with the chart's defaults in place of the template expressions accepts them all.
        var values = Values();
        var args = ArgFlag().Matches(deployment).Select(m => "--" + m.Groups["name"].Value + "=" + Substitute(m.Groups["value"].Value, values)).ToList();
        var certificate = Path.GetTempFileName();
        try
        {
            args = args.Select(a => a.StartsWith("--tls-", StringComparison.Ordinal) ? a[..(a.IndexOf('=', StringComparison.Ordinal) + 1)] + certificate : a).ToList();
            var settings = WebhookSettings.From(WebhookSettings.Command.Parse(args, _ => null), _ => null);
            Assert.Equal(values["sidecar"]!["adminPort"]!.GetValue<long>(), settings.Sidecar.AdminPort);
        }
        finally
        {
            File.Delete(certificate);
        }
    }

    [Fact]
    public void MutatingWebhookConfiguration_SelectsOnlyOptedInPodsOutsideSystemNamespaces()
    {
        var text = File.ReadAllText(Path.Combine(Chart, "templates", "webhook-mutatingwebhookconfiguration.yaml"));
        var values = Values();

        foreach (var expected in new[]
        {
            "admissionReviewVersions: [\"v1\"]", "sideEffects: None", "operations: [\"CREATE\"]", "resources: [\"pods\"]",
            "token-injector.dev/inject: \"true\"", "key: kubernetes.io/metadata.name", "operator: NotIn",
            "\"kube-system\" .Release.Namespace", "path: /mutate", "failurePolicy: {{ .Values.webhook.failurePolicy }}",
            "reinvocationPolicy: {{ .Values.webhook.reinvocationPolicy }}", "timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}",
            "cert-manager.io/inject-ca-from", "caBundle:",
        })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }

        Assert.Equal("Fail", values["webhook"]!["failurePolicy"]!.GetValue<string>());
        Assert.Equal("IfNeeded", values["webhook"]!["reinvocationPolicy"]!.GetValue<string>());
        Assert.Equal(2, values["webhook"]!["replicas"]!.GetValue<long>());
    }

    [Fact]
    public void Certificate_IsGeneratedOnceAndKeptAcrossUpgrades()
    {
        var helpers = File.ReadAllText(Path.Combine(Chart, "templates", "_helpers.tpl"));
        var certificate = File.ReadAllText(Path.Combine(Chart, "templates", "webhook-certificate.yaml"));

        Assert.Contains("lookup \"v1\" \"Secret\" .Release.Namespace", helpers, StringComparison.Ordinal);
        Assert.Contains("genCA", helpers, StringComparison.Ordinal);
        Assert.Contains("genSignedCert", helpers, StringComparison.Ordinal);
        Assert.Contains("kind: Certificate", certificate, StringComparison.Ordinal);
        Assert.Contains("type: kubernetes.io/tls", certificate, StringComparison.Ordinal);
    }

    [Fact]
    public void Readme_ListsEveryValue()
    {
        var readme = File.ReadAllText(Path.Combine(Chart, "README.md"));

        foreach (var path in LeafPaths(Values(), string.Empty))
        {
            Assert.Contains($"| `{path}` |", readme, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void WorkloadTemplates_AreLockedDown()
    {
        foreach (var name in new[] { "webhook-deployment.yaml", "tests/test-webhook.yaml" })
        {
            var text = File.ReadAllText(Path.Combine(Chart, "templates", name));
            foreach (var expected in new[] { "runAsNonRoot: true", "readOnlyRootFilesystem: true", "allowPrivilegeEscalation: false", "drop: [\"ALL\"]", "type: RuntimeDefault" })
            {
                Assert.Contains(expected, text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void SidecarDefaults_MatchWhatTheWebhookInjects()
    {
        var values = Values();
        var podMonitor = File.ReadAllText(Path.Combine(Chart, "templates", "sidecar-podmonitor.yaml"));

        Assert.Contains("port: " + PodMutator.AdminPortName, podMonitor, StringComparison.Ordinal);
        Assert.Contains("token-injector.dev/inject: \"true\"", podMonitor, StringComparison.Ordinal);
        Assert.Equal(WebhookSettings.Command.Find("sidecar-admin-port")!.Default, values["sidecar"]!["adminPort"]!.ToString());
        Assert.Equal(WebhookSettings.Command.Find("sidecar-cpu-request")!.Default, values["sidecar"]!["cpuRequest"]!.ToString());
        Assert.Equal(WebhookSettings.Command.Find("sidecar-memory-request")!.Default, values["sidecar"]!["memoryRequest"]!.ToString());
        Assert.Equal(WebhookSettings.Command.Find("sidecar-memory-limit")!.Default, values["sidecar"]!["memoryLimit"]!.ToString());
    }

    [Fact]
    public void Notes_WarnOnRiskySettings()
    {
        var notes = File.ReadAllText(Path.Combine(Chart, "templates", "NOTES.txt"));

        foreach (var expected in new[]
        {
            "if eq .Values.webhook.failurePolicy \"Ignore\"", "if lt (int .Values.webhook.replicas) 2",
            "if not .Values.webhook.podDisruptionBudget.enabled", "hasSuffix \":latest\"",
        })
        {
            Assert.Contains(expected, notes, StringComparison.Ordinal);
        }

        Assert.True(Count(notes, "WARNING:") >= 5, "NOTES.txt should warn on each risky setting");
    }

    internal static JsonObject Values() => YamlJson.Parse(File.ReadAllText(Path.Combine(Chart, "values.yaml")))!.AsObject();

    private static Task<JsonSchema> Schema() =>
        JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(Chart, "values.schema.json"))).WaitAsync(TimeSpan.FromSeconds(30));

    private static IEnumerable<string> TemplateFiles() =>
        Directory.GetFiles(Path.Combine(Chart, "templates"), "*", SearchOption.AllDirectories);

    private static IEnumerable<string> LeafPaths(JsonNode? node, string prefix) => node is JsonObject o && o.Count > 0
        ? o.SelectMany(p => LeafPaths(p.Value, prefix.Length == 0 ? p.Key : prefix + "." + p.Key))
        : [prefix];

    private static void Set(JsonObject root, string path, JsonNode? value)
    {
        var parts = path.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            node = (node[part] ??= new JsonObject()).AsObject();
        }

        node[parts[^1]] = value;
    }

    // Replaces {{ .Values.a.b }} with the default value and {{ include "...sidecarImage" . }} with an image.
    private static string Substitute(string template, JsonObject values) => Expression().Replace(template, match =>
    {
        var values1 = ValuesReference().Match(match.Value);
        if (!values1.Success)
        {
            return "ghcr.io/token-injector/injector:0.1.0";
        }

        JsonNode? node = values;
        foreach (var part in values1.Groups["path"].Value.Split('.'))
        {
            node = node![part];
        }

        return node is JsonValue v && v.TryGetValue<bool>(out var flag) ? (flag ? "true" : "false") : node!.ToString();
    });

    private static int Count(string text, string what) => Regex.Count(text, Regex.Escape(what));

    [GeneratedRegex(@"^\s*(?<key>[A-Za-z0-9_]+):(\s|$)")]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"\.Values\.(?<path>[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)")]
    private static partial Regex ValuesReference();

    [GeneratedRegex(@"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemVer();

    [GeneratedRegex(@"^((webhook|sidecar)-[a-z]+\.yaml|_helpers\.tpl|NOTES\.txt|tests/test-[a-z-]+\.yaml)$")]
    private static partial Regex TemplateName();

    [GeneratedRegex(@"\{\{-? define ""(?<name>[^""]+)""")]
    private static partial Regex Define();

    [GeneratedRegex(@"include ""(?<name>[^""]+)""")]
    private static partial Regex Include();

    [GeneratedRegex(@"\{\{-?\s*(if|with|range|define)\b")]
    private static partial Regex BlockOpen();

    [GeneratedRegex(@"\{\{-?\s*end\s*-?\}\}")]
    private static partial Regex BlockEnd();

    [GeneratedRegex(@"^\s*- --(?<name>[a-z-]+)=(?<value>.*)$", RegexOptions.Multiline)]
    private static partial Regex ArgFlag();

    [GeneratedRegex(@"\{\{[^}]*\}\}")]
    private static partial Regex Expression();
}
