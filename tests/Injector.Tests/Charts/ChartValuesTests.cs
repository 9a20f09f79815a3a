using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NJsonSchema;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The chart's files as a maintainer edits them: values.yaml against its strict schema (and Helm's reading of it),
/// a comment on every value, the README's value table generated from those comments, documented helpers, the
/// file layout and the icon. What the templates make of the values is in the render tests.
/// </summary>
public sealed partial class ChartValuesTests
{
    [Fact]
    public async Task ValuesYaml_ValidatesAgainstTheSchema()
    {
        var schema = await JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(Helm.Chart, "values.schema.json"))).WaitAsync(TimeSpan.FromSeconds(30));

        var errors = schema.Validate(ChartFiles.Values().ToJsonString());

        Assert.Empty(errors.Select(e => e.ToString()));
    }

    public static TheoryData<int, string, string> BadValues()
    {
        var rows = new (string Path, string Json)[]
        {
            ("webhook.replicas", "\"two\""),
            ("webhook.replicas", "0"),
            ("webhook.failurePolicy", "\"Sometimes\""),
            ("webhook.timeoutSeconds", "31"),
            ("webhook.shutdownDelaySeconds", "61"),
            ("sidecar.cpuRequest", "\"lots\""),
            ("sidecar.memoryLimit", "128"),
            ("image.pullPolicy", "5"),
            ("image.repository", "\"ghcr.io/token injector\""),
            ("image.tag", "\"1.0 beta\""),
            ("monitoring.prometheusOperator.monitors", "\"yes\""),
            ("replicaCount", "2"),
            ("webhook.replica", "2"),
            ("webhook.resources.requests.gpu", "\"1\""),
            ("certificate.certManager.issuerRef.namespace", "\"x\""),
            ("certManager.enabled", "true"),
            ("certificate.mode", "\"generated\""),
            ("certificate.caLifetime", "\"1y\""),
            ("certificate.renewBefore", "\"720\""),
            ("certificate.caBundle", "\"not base64!\""),
            ("webhook.validation.timeoutSeconds", "31"),
            ("networkPolicy.apiServer.cidrs", "[\"10.0.0.1\"]"),
            ("networkPolicy.apiServer.ports", "[0]"),
            ("networkPolicy.dns.cidrs", "[\"kube-dns\"]"),
            ("global", "\"shared\""),
            ("image.digest", "\"latest\""),
            ("webhook.serviceAccountLookupTimeout", "\"2 seconds\""),
            ("sidecar.logFormat", "\"xml\""),
            ("monitoring.prometheusOperator.labels", "{\"a\":1}"),
            ("monitoring.googleManagedPrometheus.namespaces", "[\"Not_A_Namespace\"]"),
            ("test.namespace", "\"Apps\""),
        };
        var data = new TheoryData<int, string, string>();
        foreach (var version in ChartTools.HelmVersions)
        {
            foreach (var (path, json) in rows)
            {
                data.Add(version, path, json);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task Helm_RefusesWrongTypesPatternsAndUnknownKeys(int helmVersion, string path, string json)
    {
        var result = await Helm.TemplateAsync(helmVersion, ValueSets.Setting(path, JsonNode.Parse(json)), Helm.CrdApis);

        Assert.True(result.ExitCode != 0, $"helm {helmVersion} accepted {path}={json}");
        Assert.Contains("schema", result.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Schema_EveryObjectWithPropertiesForbidsOthers()
    {
        var loose = new List<string>();
        Walk(ChartFiles.Schema(), "#");
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
        foreach (var path in ValueSets.LeafPaths(ChartFiles.Values()))
        {
            var covered = ChartFiles.SchemaOf(path) is not null
                || ChartFiles.SchemaOf(path[..path.LastIndexOf('.')]) is { } map && map.ContainsKey("additionalProperties");
            Assert.True(covered, $"values.schema.json does not describe {path}");
        }
    }

    [Fact]
    public void ValuesYaml_EveryKeyCarriesAComment()
    {
        var lines = File.ReadAllLines(Path.Combine(Helm.Chart, "values.yaml"));
        var uncommented = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (KeyLine().Match(lines[i]) is not { Success: true } key)
            {
                continue;
            }

            if (i == 0 || !lines[i - 1].TrimStart().StartsWith('#'))
            {
                uncommented.Add($"line {i + 1}: {key.Groups["key"].Value}");
            }
        }

        Assert.Empty(uncommented);
    }

    [Fact]
    public void Readme_ValueTableIsTheOneValuesYamlGenerates()
    {
        var readme = File.ReadAllText(Path.Combine(Helm.Chart, "README.md"));
        var expected = ValueTable();

        Assert.True(
            readme.Contains(expected, StringComparison.Ordinal),
            "charts/token-injector/README.md's value table is not the one values.yaml's '# --' comments make; replace it with:\n" + expected);
        foreach (var leaf in ValueSets.LeafPaths(ChartFiles.Values()))
        {
            Assert.Contains(expected.Split('\n'), row => row.StartsWith($"| `{leaf}`", StringComparison.Ordinal)
                || row.StartsWith($"| `{leaf[..Math.Max(0, leaf.LastIndexOf('.'))]}` |", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Templates_ReferenceOnlyValuesThatExist()
    {
        // A template that names a value values.yaml lacks renders it as empty, silently: no render shows that.
        var values = ChartFiles.Values();
        var missing = new List<string>();
        var references = 0;
        foreach (var file in TemplateFiles())
        {
            foreach (Match match in ValuesReference().Matches(File.ReadAllText(file)))
            {
                references++;
                if (ValueSets.At(values, match.Groups["path"].Value) is null && !IsEmptyValue(values, match.Groups["path"].Value))
                {
                    missing.Add($"{Path.GetFileName(file)}: .Values.{match.Groups["path"].Value}");
                }
            }
        }

        Assert.True(references > 30, $"only {references} .Values references found: is the pattern right?");
        Assert.Empty(missing);
    }

    [Fact]
    public void ChartYaml_IsAValidV2ChartWithAnIconOfOurOwn()
    {
        var chart = YamlJson.Parse(File.ReadAllText(Path.Combine(Helm.Chart, "Chart.yaml")))!.AsObject();

        Assert.Equal("v2", chart["apiVersion"]!.GetValue<string>());
        Assert.Equal("token-injector", chart["name"]!.GetValue<string>());
        Assert.Equal("application", chart["type"]!.GetValue<string>());
        Assert.Matches(SemVer(), chart["version"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(chart["appVersion"]?.GetValue<string>()));
        var known = new HashSet<string> { "apiVersion", "name", "version", "kubeVersion", "description", "type", "keywords", "home", "sources", "dependencies", "maintainers", "icon", "appVersion", "deprecated", "annotations" };
        Assert.All(chart.Select(p => p.Key), key => Assert.Contains(key, known));

        // The icon is served from this repository's main branch once it is public: the URL names a file of the repository.
        var home = chart["home"]!.GetValue<string>().Replace("https://github.com/", "https://raw.githubusercontent.com/", StringComparison.Ordinal) + "/main/";
        var icon = chart["icon"]!.GetValue<string>();
        Assert.StartsWith(home, icon, StringComparison.Ordinal);
        var file = Support.RepositoryFiles.PathOf(icon[home.Length..].Split('/'));
        var svg = XDocument.Load(file).Root!;
        Assert.Equal(XName.Get("svg", "http://www.w3.org/2000/svg"), svg.Name);
        Assert.NotNull(svg.Attribute("viewBox"));
        Assert.True(new FileInfo(file).Length < 4096, "the icon should stay small");
    }

    [Fact]
    public void Templates_AreNamedComponentDashKind()
    {
        foreach (var file in TemplateFiles())
        {
            var relative = Path.GetRelativePath(Path.Combine(Helm.Chart, "templates"), file).Replace('\\', '/');
            Assert.Matches(TemplateName(), relative);
        }
    }

    [Fact]
    public void Helpers_AreDocumentedAndEveryIncludeIsDefined()
    {
        var helpers = File.ReadAllText(Path.Combine(Helm.Chart, "templates", "_helpers.tpl"));
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

    /// <summary>The README's value table: one row per '# --' comment of values.yaml (key, default as written, comment).</summary>
    private static string ValueTable()
    {
        var table = new StringBuilder("| Key | Default | Description |\n|---|---|---|\n");
        var path = new List<(int Indent, string Key)>();
        string? description = null;
        foreach (var line in File.ReadAllLines(Path.Combine(Helm.Chart, "values.yaml")))
        {
            var trimmed = line.TrimStart();
            var indent = line.Length - trimmed.Length;
            if (trimmed.StartsWith("# -- ", StringComparison.Ordinal))
            {
                description = trimmed["# -- ".Length..];
                continue;
            }

            if (KeyLine().Match(line) is not { Success: true } key)
            {
                continue;
            }

            path.RemoveAll(p => p.Indent >= indent);
            path.Add((indent, key.Groups["key"].Value));
            if (description is not null)
            {
                var value = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                table.Append(FormattableString.Invariant($"| `{string.Join('.', path.Select(p => p.Key))}` | `{value}` | {description} |\n"));
                description = null;
            }
        }

        return table.ToString();
    }

    private static bool IsEmptyValue(JsonObject values, string path) =>
        path.Contains('.', StringComparison.Ordinal) && ValueSets.At(values, path[..path.LastIndexOf('.')]) is JsonObject parent && parent.ContainsKey(path[(path.LastIndexOf('.') + 1)..]);

    private static IEnumerable<string> TemplateFiles() =>
        Directory.GetFiles(Path.Combine(Helm.Chart, "templates"), "*", SearchOption.AllDirectories);

    [GeneratedRegex(@"^\s*(?<key>[A-Za-z0-9_]+):(\s|$)")]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"\.Values\.(?<path>[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)")]
    private static partial Regex ValuesReference();

    [GeneratedRegex(@"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemVer();

    [GeneratedRegex(@"^((webhook|sidecar|monitoring)-[a-z]+\.yaml|_helpers\.tpl|NOTES\.txt|tests/test-[a-z-]+\.yaml)$")]
    private static partial Regex TemplateName();

    [GeneratedRegex(@"\{\{-? define ""(?<name>[^""]+)""")]
    private static partial Regex Define();

    [GeneratedRegex(@"include ""(?<name>[^""]+)""")]
    private static partial Regex Include();
}
