using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenInjector.DevStack.Certificates;
using TokenInjector.DevStack.Network;

namespace TokenInjector.DevStack.Kubernetes;

/// <summary>
/// A stand-in for the Kubernetes API server, as the webhook uses it: service accounts (GET), Secrets (GET, POST,
/// PUT) and mutating and validating webhook configurations (GET, POST, PUT), on HTTPS loopback with a certificate
/// from a <see cref="DevCertificateAuthority"/>, reached through the kubeconfig file it writes. It keeps the real
/// server's rules where a client depends on them: GET of a missing object is 404, POST of an existing one 409
/// AlreadyExists, PUT with a stale <c>metadata.resourceVersion</c> 409 Conflict, every write bumps the
/// resourceVersion, and every error is a <c>Status</c> object. Switches make it <see cref="Hang"/> (accept, never
/// answer) or go <see cref="Down"/> (connections cut at once); counters say what was asked; an
/// <see cref="Authorize"/> rule refuses with 403 Forbidden what RBAC would not allow.
/// </summary>
internal sealed class FakeApiServer : IAsyncDisposable
{
    private const string AdmissionPrefix = "/apis/admissionregistration.k8s.io/v1/";
    private static readonly Dictionary<string, (string Kind, string ApiVersion)> Kinds = new()
    {
        ["secrets"] = ("Secret", "v1"),
        ["serviceaccounts"] = ("ServiceAccount", "v1"),
        ["mutatingwebhookconfigurations"] = ("MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1"),
        ["validatingwebhookconfigurations"] = ("ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1"),
    };

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Resource, string Namespace, string Name), JsonObject> _objects = [];
    private readonly ConcurrentDictionary<string, int> _counts = new();
    private long _resourceVersion = 1000;
    private int _requests;
    private int _refused;
    private (int Count, int Waiting, TaskCompletionSource Released)? _createGate;

    private FakeApiServer(WebApplication app) => _app = app;

    /// <summary>Requests are accepted and never answered, as an overloaded API server does.</summary>
    public bool Hang { get; set; }

    /// <summary>Every connection and request is cut at once, as when the API server is away.</summary>
    public bool Down { get; set; }

    /// <summary>
    /// When set, whether the client may do a verb (get, create, update) on a resource in a namespace ("" cluster-wide)
    /// by name (null for a create): false is answered 403 Forbidden, as the real server answers what RBAC does not allow.
    /// </summary>
    public Func<string, string, string, string?, bool>? Authorize { get; set; }

    /// <summary>Requests answered (or hung), of every kind.</summary>
    public int Requests => _requests;

    /// <summary>Connections and requests cut while <see cref="Down"/>: the attempts of a client that keeps retrying.</summary>
    public int Refused => _refused;

    /// <summary>The address, <c>https://127.0.0.1:PORT</c>.</summary>
    public string Address { get; private set; } = string.Empty;

    /// <summary>A kubeconfig file that reaches this server and trusts only the CA it was started with.</summary>
    public string KubeconfigFile { get; private set; } = string.Empty;

    public static async Task<FakeApiServer> StartAsync(DevCertificateAuthority authority, string directory, CancellationToken cancellationToken = default)
    {
        var serving = authority.IssueServerCertificate("fake-apiserver", ["localhost", "127.0.0.1"]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        FakeApiServer? server = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Use(next => connection =>
            {
                if (server!.Down)
                {
                    Interlocked.Increment(ref server._refused);
                    connection.Abort(new ConnectionAbortedException("the fake API server is down"));
                    return Task.CompletedTask;
                }

                return next(connection);
            });
            listen.UseHttps(serving);
        }));
        var app = builder.Build();
        server = new FakeApiServer(app);
        app.Run(server.ServeAsync);
        await app.StartAsync(cancellationToken);
        server.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.KubeconfigFile = Path.Combine(directory, "kubeconfig-" + Guid.NewGuid().ToString("N")[..8]);
        await File.WriteAllTextAsync(server.KubeconfigFile, Kubeconfig(server.Address, authority.CertificatePem), cancellationToken);
        return server;
    }

    /// <summary>A kubeconfig for <paramref name="server"/>, trusting only <paramref name="authorityPem"/>, that sends <paramref name="token"/>.</summary>
    public static string Kubeconfig(string server, string authorityPem, string token = "not-a-real-token") => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: fake
          cluster:
            server: {server}
            certificate-authority-data: {Convert.ToBase64String(Encoding.ASCII.GetBytes(authorityPem))}
        users:
        - name: webhook
          user:
            token: {token}
        contexts:
        - name: fake
          context:
            cluster: fake
            user: webhook
        current-context: fake
        """;

    /// <summary>A kubeconfig file naming a loopback port where nothing listens: connections are refused at once.</summary>
    public static string WriteUnreachableKubeconfig(DevCertificateAuthority authority, string directory)
    {
        var path = Path.Combine(directory, "kubeconfig-down");
        File.WriteAllText(path, Kubeconfig($"https://127.0.0.1:{FreePort.Next()}", authority.CertificatePem));
        return path;
    }

    /// <summary>How many requests of <paramref name="method"/> reached <paramref name="resource"/> (e.g. "PUT", "secrets").</summary>
    public int Count(string method, string resource) => _counts.TryGetValue($"{method} {resource}", out var count) ? count : 0;

    /// <summary>Stores <paramref name="body"/> as a client's create would (namespace empty for cluster-wide resources); returns the stored copy.</summary>
    public JsonObject Put(string resource, string @namespace, JsonObject body)
    {
        lock (_gate)
        {
            var stored = Stamp(resource, @namespace, body.DeepClone().AsObject());
            _objects[(resource, @namespace, Name(stored))] = stored;
            return stored.DeepClone().AsObject();
        }
    }

    /// <summary>
    /// Holds every create (POST) until <paramref name="count"/> of them are waiting, then lets them through together:
    /// clients that both found an object missing race to create it, and all but one get 409 AlreadyExists.
    /// </summary>
    public void HoldCreates(int count)
    {
        lock (_gate)
        {
            _createGate = (count, 0, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
    }

    /// <summary>A copy of the stored object, or null.</summary>
    public JsonObject? Get(string resource, string @namespace, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue((resource, @namespace, name), out var stored) ? stored.DeepClone().AsObject() : null;
        }
    }

    public bool Delete(string resource, string @namespace, string name)
    {
        lock (_gate)
        {
            return _objects.Remove((resource, @namespace, name));
        }
    }

    /// <summary>
    /// A webhook configuration (<c>mutatingwebhookconfigurations</c> or <c>validatingwebhookconfigurations</c>) whose
    /// entries, named <paramref name="entries"/>, call Service <paramref name="serviceNamespace"/>/<paramref name="serviceName"/>
    /// with no caBundle, as a chart renders it for a webhook that keeps its own certificate.
    /// </summary>
    public JsonObject PutWebhookConfiguration(string resource, string name, string serviceNamespace, string serviceName, params string[] entries)
    {
        var webhooks = new JsonArray();
        foreach (var entry in entries)
        {
            var webhook = new JsonObject
            {
                ["name"] = entry,
                ["clientConfig"] = new JsonObject
                {
                    ["service"] = new JsonObject { ["namespace"] = serviceNamespace, ["name"] = serviceName, ["path"] = "/mutate", ["port"] = 443 },
                },
                ["rules"] = new JsonArray(new JsonObject
                {
                    ["apiGroups"] = new JsonArray(""),
                    ["apiVersions"] = new JsonArray("v1"),
                    ["operations"] = new JsonArray("CREATE"),
                    ["resources"] = new JsonArray("pods"),
                    ["scope"] = "*",
                }),
                ["failurePolicy"] = "Fail",
                ["sideEffects"] = "None",
                ["admissionReviewVersions"] = new JsonArray("v1"),
                ["timeoutSeconds"] = 5,
                ["objectSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["token-injector.dev/inject"] = "true" } },
            };
            if (resource == "mutatingwebhookconfigurations")
            {
                webhook["reinvocationPolicy"] = "IfNeeded";
            }

            webhooks.Add(webhook);
        }

        return Put(resource, string.Empty, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app.kubernetes.io/name"] = "token-injector" } },
            ["webhooks"] = webhooks,
        });
    }

    /// <summary>The caBundle of each entry of a webhook configuration, as PEM ("" where there is none; empty when the configuration is missing).</summary>
    public IReadOnlyList<string> CaBundles(string resource, string name) =>
        Get(resource, string.Empty, name)?["webhooks"]?.AsArray()
            .Select(webhook => (string?)webhook?["clientConfig"]?["caBundle"] is { } bundle ? Encoding.ASCII.GetString(Convert.FromBase64String(bundle)) : string.Empty)
            .ToList() ?? [];

    /// <summary>A service account with <paramref name="annotations"/>.</summary>
    public void PutServiceAccount(string @namespace, string name, Dictionary<string, string> annotations)
    {
        var metadata = new JsonObject { ["name"] = name, ["namespace"] = @namespace, ["annotations"] = new JsonObject(annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))) };
        Put("serviceaccounts", @namespace, new JsonObject { ["metadata"] = metadata });
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private static string Name(JsonObject body) => (string?)body["metadata"]?["name"] ?? string.Empty;

    private static async Task WriteAsync(HttpContext context, int code, JsonObject body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static Task WriteStatusAsync(HttpContext context, int code, string reason, string message, string? resource = null, string? name = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (resource is not null)
        {
            status["details"] = new JsonObject { ["name"] = name, ["kind"] = resource };
        }

        return WriteAsync(context, code, status);
    }

    /// <summary>
    /// Namespaced core resources are <c>/api/v1/namespaces/NS/RESOURCE[/NAME]</c>; the webhook configurations
    /// <c>/apis/admissionregistration.k8s.io/v1/RESOURCE[/NAME]</c>, cluster-wide.
    /// </summary>
    private static (string Resource, string Namespace, string? Name)? Route(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts is ["api", "v1", "namespaces", var ns, var resource, .. var rest] && rest.Length <= 1 && resource is "secrets" or "serviceaccounts")
        {
            return (resource, ns, rest.Length == 1 ? rest[0] : null);
        }

        if (path.StartsWith(AdmissionPrefix, StringComparison.Ordinal) && parts is [_, _, _, var kind, .. var tail] && tail.Length <= 1
            && kind is "mutatingwebhookconfigurations" or "validatingwebhookconfigurations")
        {
            return (kind, string.Empty, tail.Length == 1 ? tail[0] : null);
        }

        return null;
    }

    private JsonObject Stamp(string resource, string @namespace, JsonObject body)
    {
        var metadata = body["metadata"] as JsonObject ?? [];
        body["metadata"] = metadata;
        if (@namespace.Length > 0)
        {
            metadata["namespace"] = @namespace;
        }

        metadata["uid"] ??= Guid.NewGuid().ToString();
        metadata["creationTimestamp"] ??= DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        metadata["resourceVersion"] = Interlocked.Increment(ref _resourceVersion).ToString(CultureInfo.InvariantCulture);
        body["kind"] = Kinds[resource].Kind;
        body["apiVersion"] = Kinds[resource].ApiVersion;
        return body;
    }

    private async Task ServeAsync(HttpContext context)
    {
        if (Down)
        {
            Interlocked.Increment(ref _refused);
            context.Abort();
            return;
        }

        Interlocked.Increment(ref _requests);
        if (Hang)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            await Task.Delay(Timeout.Infinite, both.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }

        var method = context.Request.Method;
        if (Route(context.Request.Path.Value ?? string.Empty) is not var (resource, ns, name))
        {
            await WriteStatusAsync(context, StatusCodes.Status404NotFound, "NotFound", "the server could not find the requested resource");
            return;
        }

        _counts.AddOrUpdate($"{method} {resource}", 1, (_, count) => count + 1);
        var verb = method switch { "GET" => "get", "POST" => "create", "PUT" => "update", _ => method.ToLowerInvariant() };
        if (Authorize is { } authorize && !authorize(verb, resource, ns, name))
        {
            var scope = ns.Length > 0 ? $" in the namespace \"{ns}\"" : " at the cluster scope";
            await WriteStatusAsync(context, StatusCodes.Status403Forbidden, "Forbidden", $"{resource} \"{name}\" is forbidden: the client cannot {verb} resource \"{resource}\"{scope}", resource, name);
            return;
        }

        switch (method, name)
        {
            case ("GET", not null):
                var found = Get(resource, ns, name);
                await (found is null
                    ? WriteStatusAsync(context, StatusCodes.Status404NotFound, "NotFound", $"{resource} \"{name}\" not found", resource, name)
                    : WriteAsync(context, StatusCodes.Status200OK, found));
                return;
            case ("POST", null) when resource != "serviceaccounts":
                await CreateAsync(context, resource, ns);
                return;
            case ("PUT", not null) when resource != "serviceaccounts":
                await ReplaceAsync(context, resource, ns, name);
                return;
            default:
                await WriteStatusAsync(context, StatusCodes.Status405MethodNotAllowed, "MethodNotAllowed", $"the server does not allow this method on the requested resource");
                return;
        }
    }

    private static async Task<JsonObject?> ReadBodyAsync(HttpContext context)
    {
        try
        {
            return (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted)) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private async Task CreateAsync(HttpContext context, string resource, string ns)
    {
        var body = await ReadBodyAsync(context);
        Task? held = null;
        lock (_gate)
        {
            if (_createGate is var (count, waiting, released))
            {
                _createGate = (count, waiting + 1, released);
                if (waiting + 1 >= count)
                {
                    _createGate = null;
                    released.SetResult();
                }

                held = released.Task;
            }
        }

        if (held is not null)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            await held.WaitAsync(both.Token);
        }

        var name = body is null ? string.Empty : Name(body);
        if (body is null || name.Length == 0)
        {
            await WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest", "the object has no metadata.name");
            return;
        }

        JsonObject stored;
        lock (_gate)
        {
            if (_objects.ContainsKey((resource, ns, name)))
            {
                stored = null!;
            }
            else
            {
                (body["metadata"] as JsonObject)?.Remove("resourceVersion");
                stored = Stamp(resource, ns, body);
                _objects[(resource, ns, name)] = stored;
                stored = stored.DeepClone().AsObject();
            }
        }

        await (stored is null
            ? WriteStatusAsync(context, StatusCodes.Status409Conflict, "AlreadyExists", $"{resource} \"{name}\" already exists", resource, name)
            : WriteAsync(context, StatusCodes.Status201Created, stored));
    }

    private async Task ReplaceAsync(HttpContext context, string resource, string ns, string name)
    {
        var body = await ReadBodyAsync(context);
        if (body is null || Name(body) != name)
        {
            await WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest", "the name of the object does not match the name on the URL");
            return;
        }

        var sent = (string?)body["metadata"]?["resourceVersion"];
        (int Code, JsonObject? Stored) outcome;
        lock (_gate)
        {
            if (!_objects.TryGetValue((resource, ns, name), out var current))
            {
                outcome = (StatusCodes.Status404NotFound, null);
            }
            else if (!string.IsNullOrEmpty(sent) && sent != (string?)current["metadata"]?["resourceVersion"])
            {
                outcome = (StatusCodes.Status409Conflict, null);
            }
            else
            {
                // What the server owns stays as it was.
                var metadata = body["metadata"]!.AsObject();
                metadata["uid"] = current["metadata"]?["uid"]?.DeepClone();
                metadata["creationTimestamp"] = current["metadata"]?["creationTimestamp"]?.DeepClone();
                var stored = Stamp(resource, ns, body);
                _objects[(resource, ns, name)] = stored;
                outcome = (StatusCodes.Status200OK, stored.DeepClone().AsObject());
            }
        }

        await (outcome.Code switch
        {
            StatusCodes.Status404NotFound => WriteStatusAsync(context, outcome.Code, "NotFound", $"{resource} \"{name}\" not found", resource, name),
            StatusCodes.Status409Conflict => WriteStatusAsync(
                context,
                outcome.Code,
                "Conflict",
                $"Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                resource,
                name),
            _ => WriteAsync(context, outcome.Code, outcome.Stored!),
        });
    }
}
