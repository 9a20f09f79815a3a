using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// Workloads built around a pod: the pod's labels, annotations and spec become the pod template of a Deployment,
/// StatefulSet, DaemonSet, ReplicaSet, Job or CronJob, as its controller would stamp that pod from it.
/// </summary>
internal static class Workloads
{
    /// <summary>Every kind the validating check judges.</summary>
    public static readonly string[] Kinds = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"];

    /// <summary>The API group of <paramref name="kind"/> ("" for the core kinds, such as Pod).</summary>
    public static string Group(string kind) => kind switch
    {
        "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" => "apps",
        "Job" or "CronJob" => "batch",
        _ => string.Empty,
    };

    /// <summary>A <paramref name="kind"/> named <paramref name="name"/> whose pods are <paramref name="pod"/> (what a pod's metadata holds besides labels and annotations is the controller's).</summary>
    public static JsonObject Wrap(string kind, JsonNode pod, string name = "frontend", string @namespace = "apps")
    {
        var metadata = pod["metadata"] as JsonObject;
        var podTemplate = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["labels"] = metadata?["labels"]?.DeepClone(),
                ["annotations"] = metadata?["annotations"]?.DeepClone(),
            },
            ["spec"] = pod["spec"]?.DeepClone(),
        };
        var selector = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } };
        JsonObject spec = kind switch
        {
            "Deployment" or "ReplicaSet" => new() { ["replicas"] = 2, ["selector"] = selector, ["template"] = podTemplate },
            "StatefulSet" => new() { ["serviceName"] = name, ["selector"] = selector, ["template"] = podTemplate },
            "DaemonSet" => new() { ["selector"] = selector, ["template"] = podTemplate },
            "Job" => new() { ["backoffLimit"] = 1, ["template"] = podTemplate },
            "CronJob" => new() { ["schedule"] = "0 3 * * *", ["jobTemplate"] = new JsonObject { ["spec"] = new JsonObject { ["template"] = podTemplate } } },
            _ => throw new ArgumentException($"not a workload kind: {kind}", nameof(kind)),
        };
        return new JsonObject
        {
            ["apiVersion"] = Group(kind) + "/v1",
            ["kind"] = kind,
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace, ["labels"] = new JsonObject { ["app"] = name } },
            ["spec"] = spec,
        };
    }
}
