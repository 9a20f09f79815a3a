using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// Just enough of a Kubernetes API server for a server-side dry-run pod create, built from a chart rendering: the
/// caller (a service account, named by its bearer token) is authorized by the rendered Roles and RoleBindings; the pod
/// goes through every rendered MutatingWebhookConfiguration as kube-apiserver sends it: rules, namespace and object
/// selectors, the Service's port to the webhook container's port, HTTPS verified with the caBundle for the Service's
/// DNS name, the path, the timeout and the failure policy; the JSON patch is applied and the pod is the answer.
/// </summary>
internal sealed class AdmissionApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Rendering _rendering;
    private readonly RenderedWebhook? _webhook;

    private AdmissionApiServer(WebApplication app, Rendering rendering, RenderedWebhook? webhook)
    {
        _app = app;
        _rendering = rendering;
        _webhook = webhook;
    }

    /// <summary>Every request, as "METHOD path?query", for the failure messages.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public string Address { get; private set; } = string.Empty;

    /// <summary>
    /// Starts the server for <paramref name="rendering"/>; an entry rendered without a caBundle (the webhook keeps its
    /// own certificate) is called with the caBundle that <paramref name="webhook"/> wrote into the live configuration.
    /// </summary>
    public static async Task<AdmissionApiServer> StartAsync(Rendering rendering, WebhookTestCertificates certificates, RenderedWebhook? webhook = null)
    {
        var serving = certificates.Issue("fake-apiserver", ["localhost"], [IPAddress.Loopback]);
        var app = LoopbackWebApp.CreateBuilder(listen => listen.UseHttps(serving)).Build();
        var server = new AdmissionApiServer(app, rendering, webhook);
        app.Use(async (context, next) =>
        {
            server.Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            await next(context);
        });
        // Discovery, as kubectl reads it before it maps "run" to pods.
        app.MapGet("/api", () => Results.Json(new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1") }));
        app.MapGet("/apis", () => Results.Json(new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = new JsonArray() }));
        app.MapGet("/api/v1", () => Results.Json(JsonNode.Parse("""
            {"kind":"APIResourceList","groupVersion":"v1","resources":[
              {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create"],"shortNames":["po"]}]}
            """)));
        app.MapPost("/api/v1/namespaces/{ns}/pods", server.CreatePodAsync);
        app.MapFallback(context => WriteStatusAsync(context, StatusCodes.Status404NotFound, "NotFound", "the page could not be found"));
        server.Address = await LoopbackWebApp.StartAsync(app);
        return server;
    }

    /// <summary>A kubeconfig that reaches this server as service account <paramref name="namespace"/>/<paramref name="name"/>.</summary>
    public string Kubeconfig(WebhookTestCertificates certificates, string @namespace, string name) =>
        TokenInjector.DevStack.Kubernetes.FakeApiServer.Kubeconfig(Address, certificates.AuthorityPem, token: $"{@namespace}:{name}");

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static Task WriteStatusAsync(HttpContext context, int code, string reason, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        var status = new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["message"] = message, ["reason"] = reason, ["code"] = code };
        return context.Response.WriteAsync(status.ToJsonString());
    }

    private static bool Selects(JsonNode? selector, IReadOnlyDictionary<string, string> labels)
    {
        var matchLabels = selector?["matchLabels"]?.AsObject() ?? [];
        var matchExpressions = selector?["matchExpressions"]?.AsArray() ?? [];
        return matchLabels.All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value!.GetValue<string>())
            && matchExpressions.All(e =>
            {
                var present = labels.TryGetValue(e!["key"]!.GetValue<string>(), out var value);
                var values = e["values"]?.AsArray().Select(v => v!.GetValue<string>()).ToList() ?? [];
                return e["operator"]!.GetValue<string>() switch
                {
                    "In" => present && values.Contains(value!),
                    "NotIn" => !present || !values.Contains(value!),
                    "Exists" => present,
                    "DoesNotExist" => !present,
                    var other => throw new InvalidOperationException("unknown selector operator " + other),
                };
            });
    }

    private static bool Matches(JsonNode rule)
    {
        static bool Has(JsonNode rule, string field, string value) => rule[field]!.AsArray().Any(v => v!.GetValue<string>() is "*" || v.GetValue<string>() == value);
        return Has(rule, "operations", "CREATE") && Has(rule, "apiGroups", string.Empty) && Has(rule, "apiVersions", "v1") && Has(rule, "resources", "pods");
    }

    private static Dictionary<string, string> Labels(JsonNode? labels) =>
        labels?.AsObject().ToDictionary(l => l.Key, l => l.Value!.GetValue<string>()) ?? [];

    private async Task CreatePodAsync(HttpContext context, string ns)
    {
        if (context.Request.Query["dryRun"] != "All")
        {
            await WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest", "this API server only answers dry runs");
            return;
        }

        var user = context.Request.Headers.Authorization.ToString().Replace("Bearer ", string.Empty, StringComparison.Ordinal).Split(':');
        if (!MayCreatePods(ns, user[0], user[^1]))
        {
            await WriteStatusAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                $"pods is forbidden: User \"system:serviceaccount:{user[0]}:{user[^1]}\" cannot create resource \"pods\" in API group \"\" in the namespace \"{ns}\"");
            return;
        }

        var pod = (await JsonNode.ParseAsync(context.Request.Body))!;
        pod["metadata"]!["namespace"] = ns;
        foreach (var configuration in _rendering.OfKind("MutatingWebhookConfiguration"))
        {
            foreach (var webhook in configuration["webhooks"]!.AsArray())
            {
                if (!webhook!["rules"]!.AsArray().Any(r => Matches(r!))
                    || !Selects(webhook["namespaceSelector"], new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = ns })
                    || !Selects(webhook["objectSelector"], Labels(pod["metadata"]!["labels"])))
                {
                    continue;
                }

                var name = webhook["name"]!.GetValue<string>();
                JsonNode response;
                try
                {
                    response = await CallAsync(webhook, CaBundle(configuration, webhook), pod, ns);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
                {
                    if (webhook["failurePolicy"]?.GetValue<string>() == "Ignore")
                    {
                        continue;
                    }

                    await WriteStatusAsync(context, StatusCodes.Status500InternalServerError, "InternalError", $"Internal error occurred: failed calling webhook \"{name}\": {ex.Message}");
                    return;
                }

                if (!response["allowed"]!.GetValue<bool>())
                {
                    await WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest", $"admission webhook \"{name}\" denied the request: {response["status"]?["message"]}");
                    return;
                }

                if (response["patch"] is { } patch)
                {
                    pod = JsonPatchApplier.Apply(pod, JsonNode.Parse(Convert.FromBase64String(patch.GetValue<string>()))!.AsArray());
                }
            }
        }

        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(pod.ToJsonString());
    }

    private bool MayCreatePods(string ns, string accountNamespace, string account) =>
        RenderedRbac.Allows(_rendering, accountNamespace, account, "create", string.Empty, "pods", ns, name: null);

    /// <summary>The entry's caBundle as PEM: the rendered one, or else the one in the live configuration of the same name.</summary>
    private string CaBundle(JsonObject configuration, JsonNode webhook) =>
        webhook["clientConfig"]!["caBundle"]?.GetValue<string>() is { } rendered
            ? Encoding.ASCII.GetString(Convert.FromBase64String(rendered))
            : _webhook?.LiveCaBundle(Rendering.Kind(configuration), Rendering.Name(configuration), webhook["name"]!.GetValue<string>()) ?? string.Empty;

    /// <summary>Sends the AdmissionReview as kube-apiserver does to a webhook behind a Service, and returns its response.</summary>
    private async Task<JsonNode> CallAsync(JsonNode webhook, string caBundle, JsonNode pod, string ns)
    {
        var clientConfig = webhook["clientConfig"]!;
        var reference = clientConfig["service"]!;
        var serviceName = reference["name"]!.GetValue<string>();
        var serviceNamespace = reference["namespace"]!.GetValue<string>();
        var servicePort = reference["port"]?.GetValue<long>() ?? 443;
        var service = _rendering.OfKind("Service").SingleOrDefault(s => Rendering.Name(s) == serviceName && Rendering.NamespaceOf(s) == serviceNamespace)
            ?? throw new InvalidOperationException($"service \"{serviceName}\" not found");
        var port = service["spec"]!["ports"]!.AsArray().SingleOrDefault(p => p!["port"]!.GetValue<long>() == servicePort)
            ?? throw new InvalidOperationException($"service \"{serviceName}\" has no port {servicePort}");
        var containerPort = ContainerPort(service, port["targetPort"]!);

        var authority = new X509Certificate2Collection();
        authority.ImportFromPem(caBundle);
        // The Service's DNS name resolves to a webhook pod: the process on this machine.
        using var client = LoopbackHttps.Client(authority, TimeSpan.FromSeconds(webhook["timeoutSeconds"]?.GetValue<long>() ?? 10), containerPort);
        var review = new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = Guid.NewGuid().ToString(),
                ["kind"] = new JsonObject { ["group"] = string.Empty, ["version"] = "v1", ["kind"] = "Pod" },
                ["resource"] = new JsonObject { ["group"] = string.Empty, ["version"] = "v1", ["resource"] = "pods" },
                ["namespace"] = ns,
                ["operation"] = "CREATE",
                ["userInfo"] = new JsonObject { ["username"] = "system:serviceaccount:helm-test" },
                ["object"] = pod.DeepClone(),
                ["dryRun"] = true,
            },
        };
        var path = reference["path"]?.GetValue<string>() ?? "/";
        using var answer = await client.PostAsync(
            $"https://{serviceName}.{serviceNamespace}.svc:{servicePort}{path}", new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json"));
        if (!answer.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the server answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        }

        var response = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["response"]!;
        if (response["uid"]!.GetValue<string>() != review["request"]!["uid"]!.GetValue<string>())
        {
            throw new InvalidOperationException("the response's uid is not the request's");
        }

        return response;
    }

    /// <summary>The container port a Service port's targetPort reaches, in the rendered pods the Service selects.</summary>
    private int ContainerPort(JsonNode service, JsonNode targetPort)
    {
        if (targetPort.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return (int)targetPort.GetValue<long>();
        }

        var selector = Labels(service["spec"]!["selector"]);
        var template = _rendering.OfKind("Deployment").Select(d => d["spec"]!["template"]!)
            .FirstOrDefault(t => selector.All(l => Labels(t["metadata"]!["labels"]).GetValueOrDefault(l.Key) == l.Value))
            ?? throw new InvalidOperationException($"no endpoints available for service \"{Rendering.Name(service.AsObject())}\"");
        return template["spec"]!["containers"]!.AsArray().SelectMany(c => c!["ports"]?.AsArray() ?? [])
            .Where(p => p!["name"]?.GetValue<string>() == targetPort.GetValue<string>())
            .Select(p => (int)p!["containerPort"]!.GetValue<long>())
            .FirstOrDefault();
    }
}
