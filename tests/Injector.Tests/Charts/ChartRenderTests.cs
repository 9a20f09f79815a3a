using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The chart under real Helm 3 and Helm 4 over <see cref="ValueSets"/>: it lints strictly, renders, and every
/// rendered object validates against the published schema of its kind.
/// </summary>
public sealed class ChartRenderTests
{
    [Theory]
    [MemberData(nameof(ValueSets.WithHelmVersions), MemberType = typeof(ValueSets))]
    public async Task LintStrictAndTemplate_SucceedForEveryValueSet(int helmVersion, string valueSet)
    {
        var values = ValueSets.All[valueSet];

        var lint = await Helm.LintAsync(helmVersion, values);
        var rendering = await Helm.RenderAsync(helmVersion, values);

        Assert.True(lint.ExitCode == 0, $"helm {helmVersion} lint --strict:\n{lint.Stdout}\n{lint.Stderr}");
        Assert.Contains(rendering.Objects, o => Rendering.Kind(o) == "MutatingWebhookConfiguration");
    }

    [Fact]
    public async Task EveryRenderedObject_ValidatesAgainstTheModelOfItsKind()
    {
        var objects = new Dictionary<string, (string Id, JsonObject Object)>();
        foreach (var version in ChartTools.HelmVersions)
        {
            foreach (var (name, values) in ValueSets.All)
            {
                foreach (var o in (await Helm.RenderAsync(version, values)).Objects)
                {
                    // The same object from several renders is checked once.
                    objects.TryAdd(o.ToJsonString(), ($"helm {version}, {name}: {Rendering.Kind(o)} {Rendering.Name(o)}", o));
                }
            }
        }

        var errors = await ObjectValidator.ValidateAsync(objects.Values);

        Assert.True(errors.Count == 0, string.Join('\n', errors.Select(e => $"{e.Key}:\n  {string.Join("\n  ", e.Value)}")));
        var kinds = objects.Values.Select(o => Rendering.Kind(o.Object)).ToHashSet();
        Assert.Superset(
            new HashSet<string> { "ValidatingWebhookConfiguration", "NetworkPolicy", "Role", "Certificate", "Issuer", "PodMonitor", "ServiceMonitor", "PrometheusRule", "PodMonitoring", "ClusterPodMonitoring", "Rules", "ClusterRules", "ConfigMap" },
            kinds);
    }

    public static TheoryData<string, string, string> MisplacedFields() => new()
    {
        // kind, a field of the rendered object, where it is moved to (a place its schema has no such field)
        { "Deployment", "spec.replicas", "spec.template.spec.replicas" },
        { "MutatingWebhookConfiguration", "webhooks.0.timeoutSeconds", "webhooks.0.clientConfig.timeoutSeconds" },
        { "ValidatingWebhookConfiguration", "webhooks.0.matchConditions", "webhooks.0.rules.0.matchConditions" },
        { "NetworkPolicy", "spec.egress.0.ports", "spec.podSelector.ports" },
        { "Certificate", "spec.duration", "spec.issuerRef.duration" },
        { "PodMonitor", "spec.podMetricsEndpoints.0.interval", "spec.selector.interval" },
        { "PrometheusRule", "spec.groups.0.rules.0.expr", "spec.groups.0.expr" },
        { "PodMonitoring", "spec.endpoints.0.interval", "spec.endpoints.0.tls.interval" },
        { "ClusterPodMonitoring", "spec.endpoints.0.interval", "spec.interval" },
        { "Rules", "spec.groups.0.rules.0.expr", "spec.groups.0.expr" },
        { "ClusterRules", "spec.groups.0.rules.0.for", "spec.groups.0.for" },
    };

    [Fact]
    public async Task Validator_RejectsAFieldMovedWhereItsSchemaHasNone()
    {
        var renders = new List<JsonObject>();
        foreach (var values in ValueSets.All.Values)
        {
            renders.AddRange((await Helm.RenderAsync(values)).Objects);
        }

        var moved = new List<(string Id, JsonObject Object)>();
        foreach (var (kind, from, to) in MisplacedFields().Select(row => ((string)row[0], (string)row[1], (string)row[2])))
        {
            var o = renders.First(r => Rendering.Kind(r) == kind).DeepClone().AsObject();
            var value = Remove(o, from);
            Place(o, to, value);
            moved.Add(($"{kind} {from} -> {to}", o));
        }

        var errors = await ObjectValidator.ValidateAsync(moved);

        Assert.All(moved, m =>
        {
            Assert.True(errors.TryGetValue(m.Id, out var found), $"{m.Id} was accepted");
            var field = m.Id.Split('.')[^1];
            Assert.Contains(found, e => e.Contains(field, StringComparison.Ordinal));
        });
    }

    [Fact]
    public void ValueSets_ChangeEveryValueOfValuesYaml()
    {
        var defaults = ChartFiles.Values();
        var unchanged = ValueSets.LeafPaths(defaults).Where(path => !ValueSets.All.Values.Any(set =>
        {
            var value = ValueSets.At(set, path);
            return value is not null && !JsonNode.DeepEquals(value, ValueSets.At(defaults, path));
        }));

        Assert.Empty(unchanged);
    }

    [Theory]
    [MemberData(nameof(ValueSetNames))]
    public async Task HelmThreeAndFour_RenderTheSameObjects(string valueSet)
    {
        var three = (await Helm.RenderAsync(3, ValueSets.All[valueSet])).Objects;
        var four = (await Helm.RenderAsync(4, ValueSets.All[valueSet])).Objects;

        Assert.Equal(three.Select(o => o.ToJsonString()).Order(), four.Select(o => o.ToJsonString()).Order());
    }

    public static TheoryData<string> ValueSetNames() => new(ValueSets.All.Keys);

    private static JsonNode? Remove(JsonObject root, string path)
    {
        var (parent, last) = Parent(root, path);
        if (parent is JsonArray array)
        {
            var item = array[int.Parse(last, System.Globalization.CultureInfo.InvariantCulture)];
            array.Remove(item);
            return item;
        }

        var o = parent!.AsObject();
        var value = o[last];
        o.Remove(last);
        return value;
    }

    private static void Place(JsonObject root, string path, JsonNode? value)
    {
        var (parent, last) = Parent(root, path, create: true);
        parent!.AsObject()[last] = value;
    }

    private static (JsonNode? Parent, string Last) Parent(JsonObject root, string path, bool create = false)
    {
        var parts = path.Split('.');
        JsonNode? node = root;
        foreach (var part in parts[..^1])
        {
            node = node is JsonArray array ? array[int.Parse(part, System.Globalization.CultureInfo.InvariantCulture)]
                : create ? node!.AsObject()[part] ??= new JsonObject() : node![part];
        }

        return (node, parts[^1]);
    }
}
