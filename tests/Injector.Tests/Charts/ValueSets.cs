using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The value sets every chart test renders and lints, with Helm 3 and Helm 4. Between them they change every value
/// of values.yaml (a test holds that): a new value gets a line here, and every render test then covers it.
/// </summary>
internal static class ValueSets
{
    public static readonly IReadOnlyDictionary<string, JsonObject> All = new Dictionary<string, JsonObject>
    {
        ["defaults"] = [],
        ["every plain value changed"] = Parse("""
            {
              "nameOverride": "injector",
              "image": { "repository": "registry.example.com/mirror/injector", "tag": "1.2.3",
                         "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "pullPolicy": "Always" },
              "imagePullSecrets": [ { "name": "registry" } ],
              "webhook": {
                "replicas": 3, "port": 9443, "failurePolicy": "Ignore", "timeoutSeconds": 10, "reinvocationPolicy": "Never",
                "excludeNamespaces": [ "legacy" ], "serviceAccountLookupTimeout": "500ms", "logFormat": "text", "logLevel": "debug",
                "allowHostNetwork": true,
                "resources": { "requests": { "cpu": "100m", "memory": "128Mi" }, "limits": { "memory": "512Mi" } },
                "podDisruptionBudget": { "enabled": false, "minAvailable": 2 },
                "podAnnotations": { "example.com/owner": "platform" }, "podLabels": { "team": "platform" },
                "nodeSelector": { "cloud.google.com/gke-nodepool": "system" },
                "tolerations": [ { "key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule" } ],
                "affinity": { "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": { "nodeSelectorTerms": [
                  { "matchExpressions": [ { "key": "kubernetes.io/arch", "operator": "In", "values": [ "amd64", "arm64" ] } ] } ] } } },
                "topologySpreadConstraints": [ { "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
                  "labelSelector": { "matchLabels": { "app.kubernetes.io/component": "webhook" } } } ],
                "priorityClassName": "system-cluster-critical", "shutdownDelaySeconds": 0,
                "validation": { "enabled": false, "timeoutSeconds": 5 }
              },
              "serviceAccount": { "name": "injector-webhook", "annotations": { "example.com/owner": "platform" } },
              "certificate": { "caLifetime": "17520h", "servingLifetime": "720h", "renewBefore": "240h" },
              "networkPolicy": { "enabled": true, "apiServer": { "cidrs": [ "172.16.0.2/32" ], "ports": [ 443 ] }, "dns": { "cidrs": [] } },
              "sidecar": {
                "image": { "repository": "registry.example.com/mirror/sidecar", "tag": "2.0.0",
                           "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "pullPolicy": "Always" },
                "cpuRequest": "20m", "memoryRequest": "64Mi", "memoryLimit": "64Mi", "adminPort": 9465, "logFormat": "text", "prometheusScrape": true
              },
              "monitoring": { "interval": "15s" },
              "test": { "namespace": "apps", "image": { "repository": "registry.example.com/mirror/kubectl", "tag": "v1.35.0",
                        "digest": "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc" } }
            }
            """),
        ["existing service account and full name"] = Parse("""
            { "fullnameOverride": "injector-prod", "serviceAccount": { "create": false, "name": "injector" } }
            """),
        ["cert-manager with the chart's own CA"] = Parse("""
            { "certificate": { "mode": "certManager", "caLifetime": "17520h", "servingLifetime": "720h", "renewBefore": "240h" } }
            """),
        ["cert-manager with an external cluster issuer"] = Parse("""
            { "certificate": { "mode": "certManager",
                               "certManager": { "issuerRef": { "name": "corp-ca", "kind": "GoogleCASClusterIssuer", "group": "cas-issuer.jetstack.io" } } } }
            """),
        ["a Secret of your own"] = Parse("""
            { "certificate": { "mode": "secret", "existingSecret": "corp-webhook-tls", "caBundle": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==" } }
            """),
        ["Prometheus Operator and the Grafana dashboard"] = Parse("""
            {
              "monitoring": {
                "prometheusOperator": { "monitors": true, "alerts": true, "labels": { "release": "kube-prometheus-stack" } },
                "grafanaDashboard": { "enabled": true, "namespace": "monitoring", "labels": { "grafana_dashboard": "platform" },
                                      "annotations": { "grafana_folder": "token-injector" } }
              }
            }
            """),
        ["Managed Service for Prometheus, cluster-wide"] = Parse("""
            { "monitoring": { "googleManagedPrometheus": { "monitors": true, "alerts": true } } }
            """),
        ["Managed Service for Prometheus, per namespace"] = Parse("""
            { "monitoring": { "googleManagedPrometheus": { "monitors": true, "alerts": true, "namespaces": [ "orders", "billing" ] } } }
            """),
    };

    public static TheoryData<int, string> WithHelmVersions()
    {
        var data = new TheoryData<int, string>();
        foreach (var version in ChartTools.HelmVersions)
        {
            foreach (var name in All.Keys)
            {
                data.Add(version, name);
            }
        }

        return data;
    }

    /// <summary>values.yaml's defaults with <paramref name="overrides"/> merged in, as Helm merges them.</summary>
    public static JsonObject Merge(JsonObject defaults, JsonObject overrides)
    {
        var merged = defaults.DeepClone().AsObject();
        foreach (var (key, value) in overrides)
        {
            merged[key] = merged[key] is JsonObject inner && value is JsonObject nested ? Merge(inner, nested) : value?.DeepClone();
        }

        return merged;
    }

    /// <summary>The dotted paths of the leaves of a values tree; an empty map or list is a leaf.</summary>
    public static IEnumerable<string> LeafPaths(JsonNode? node, string prefix = "") => node is JsonObject o && o.Count > 0
        ? o.SelectMany(p => LeafPaths(p.Value, prefix.Length == 0 ? p.Key : prefix + "." + p.Key))
        : [prefix];

    public static JsonNode? At(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var child) ? child : null;
        }

        return node;
    }

    /// <summary>A values object that sets one dotted path.</summary>
    public static JsonObject Setting(string path, JsonNode? value)
    {
        var parts = path.Split('.');
        JsonNode? node = value;
        foreach (var part in parts.Reverse())
        {
            node = new JsonObject { [part] = node };
        }

        return node!.AsObject();
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
