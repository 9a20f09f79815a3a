using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The ValidatingWebhookConfiguration's matchConditions, evaluated (with a CEL engine, Validation/eval-cel.mjs) on
/// the objects the API server binds to them: of every workload kind the rules name, only one whose pod template carries
/// the inject label is sent to the webhook, wherever that kind keeps its template; nothing else errors or is sent.
/// </summary>
public sealed class ValidatingMatchConditionTests
{
    private static readonly Dictionary<string, string> Kinds = new()
    {
        ["deployments"] = "apps",
        ["statefulsets"] = "apps",
        ["daemonsets"] = "apps",
        ["replicasets"] = "apps",
        ["jobs"] = "batch",
        ["cronjobs"] = "batch",
    };

    /// <summary>Labels of the pod template, and whether the object is sent (null labels: the template has none).</summary>
    private static readonly (string Name, JsonObject? Labels, bool Sent)[] Templates =
    [
        ("asks for injection", new JsonObject { ["token-injector.dev/inject"] = "true", ["app"] = "orders" }, true),
        ("says false", new JsonObject { ["token-injector.dev/inject"] = "false" }, false),
        ("other labels only", new JsonObject { ["app"] = "orders" }, false),
        ("no labels at all", null, false),
    ];

    [Fact]
    public async Task OnlyWorkloadsWhosePodTemplateAsksForInjection_AreSent()
    {
        var rendering = await Helm.RenderAsync();
        var webhook = rendering.Single("ValidatingWebhookConfiguration")["webhooks"]![0]!;
        var expression = Assert.Single(webhook["matchConditions"]!.AsArray())!["expression"]!.GetValue<string>();
        var ruled = webhook["rules"]!.AsArray().SelectMany(r => r!["resources"]!.AsArray().Select(x => x!.GetValue<string>())).Order();
        Assert.Equal(Kinds.Keys.Order(), ruled);

        var cases = new JsonArray();
        var expected = new Dictionary<string, bool>();
        foreach (var (resource, group) in Kinds)
        {
            foreach (var (name, labels, sent) in Templates)
            {
                var id = $"{resource}: {name}";
                expected[id] = sent;
                cases.Add(Case(id, expression, resource, group, Workload(resource, labels)));
            }
        }

        // A CronJob's own labels, or its Job template's, do not ask: only the pod template's do.
        var jobLabelsOnly = Workload("cronjobs", null);
        jobLabelsOnly["metadata"]!["labels"] = new JsonObject { ["token-injector.dev/inject"] = "true" };
        jobLabelsOnly["spec"]!["jobTemplate"]!["metadata"]!["labels"] = new JsonObject { ["token-injector.dev/inject"] = "true" };
        expected["cronjobs: labels on the CronJob and its Job template only"] = false;
        cases.Add(Case("cronjobs: labels on the CronJob and its Job template only", expression, "cronjobs", "batch", jobLabelsOnly));

        var results = (await NodeScripts.RunAsync(["eval-cel.mjs"], cases)).AsArray();

        Assert.Equal(expected.Count, results.Count);
        Assert.All(results, r =>
        {
            var id = r!["id"]!.GetValue<string>();
            Assert.True(r["error"] is null, $"{id}: {r["error"]}");
            Assert.True(expected[id] == r["value"]!.GetValue<bool>(), $"{id}: sent {r["value"]}, expected {expected[id]}");
        });
    }

    /// <summary>A workload as the API server binds it to <c>object</c>: defaulted, so every level down to the pod template's metadata exists.</summary>
    private static JsonObject Workload(string resource, JsonObject? labels)
    {
        var metadata = new JsonObject { ["creationTimestamp"] = null };
        if (labels is not null)
        {
            metadata["labels"] = labels.DeepClone();
        }

        var template = new JsonObject { ["metadata"] = metadata, ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "app:1" }) } };
        var spec = resource == "cronjobs"
            ? new JsonObject { ["schedule"] = "*/5 * * * *", ["jobTemplate"] = new JsonObject { ["metadata"] = new JsonObject(), ["spec"] = new JsonObject { ["template"] = template } } }
            : new JsonObject { ["template"] = template };
        return new JsonObject { ["metadata"] = new JsonObject { ["name"] = "orders", ["namespace"] = "orders" }, ["spec"] = spec };
    }

    private static JsonObject Case(string id, string expression, string resource, string group, JsonObject workload) => new()
    {
        ["id"] = id,
        ["expression"] = expression,
        ["variables"] = new JsonObject
        {
            ["request"] = new JsonObject
            {
                ["operation"] = "CREATE",
                ["resource"] = new JsonObject { ["group"] = group, ["version"] = "v1", ["resource"] = resource },
            },
            ["object"] = workload,
        },
    };
}
