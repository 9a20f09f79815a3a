using System.Text.Json;
using TokenInjector.Emulators.GoogleApis;
using TokenInjector.Emulators.Identity;
using TokenInjector.Emulators.Plumbing;

namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// Answers HTTP requests the way the GKE metadata server does (docs/ARCHITECTURE.md "The emulators"), including its unfriendly parts:
/// the flavor-header check, 301s for directories without a slash, raw-JWT identity bodies, startup failures and
/// injected faults. Google's OAuth2 token endpoint and generateIdToken (<see cref="GoogleTokenEndpoint"/>) are served
/// beside it. The state it serves (keys, cache, counters, faults) outlives any one listener.
/// </summary>
internal sealed class MetadataRequestHandler
{
    private const string MetadataRoot = "/computeMetadata";
    private const string AccountsDirectory = "/computeMetadata/v1/instance/service-accounts";
    private const string AttributesDirectory = "/computeMetadata/v1/instance/attributes";
    private const string JwksPath = "/oauth2/v3/certs";
    private const string TextContentType = "application/text";
    private const string HtmlContentType = "text/html; charset=utf-8";

    private static readonly string[] Scopes =
    [
        "https://www.googleapis.com/auth/cloud-platform",
        "https://www.googleapis.com/auth/userinfo.email",
    ];

    // Directories other than the per-account ones, with their listings.
    private static readonly Dictionary<string, string> Directories = new(StringComparer.Ordinal)
    {
        [MetadataRoot] = "v1/\n",
        ["/computeMetadata/v1"] = "instance/\nproject/\nuniverse/\n",
        ["/computeMetadata/v1/instance"] = "attributes/\nservice-accounts/\n",
        ["/computeMetadata/v1/project"] = "numeric-project-id\nproject-id\n",
        ["/computeMetadata/v1/universe"] = "universe-domain\n",
    };

    private readonly MetadataEmulatorOptions _options;
    private readonly IdentityTokenIssuer _issuer;
    private readonly SigningKeyRing _keys;
    private readonly EmulatorControlApi _control;
    private readonly DateTimeOffset _startedAt;
    private readonly string _projectId;

    public MetadataRequestHandler(
        MetadataEmulatorOptions options, SigningKeyRing keys, IdentityTokenIssuer issuer, EmulatorControlApi control, GoogleTokenEndpoint google)
    {
        Attributes = control.Attributes;
        _options = options;
        _keys = keys;
        _control = control;
        _issuer = issuer;
        Google = google;
        _startedAt = options.Time.GetUtcNow();

        // app@demo-project.iam.gserviceaccount.com belongs to project demo-project.
        var domain = options.ServiceAccountEmail[(options.ServiceAccountEmail.IndexOf('@', StringComparison.Ordinal) + 1)..];
        _projectId = domain.Split('.')[0];
    }

    public MetadataFaults Faults => _control.Faults;

    /// <summary>Google's OAuth2 token endpoint and generateIdToken, served on the same listener.</summary>
    public GoogleTokenEndpoint Google { get; }

    public IdentityRequestCounter Counter => _control.Counter;

    /// <summary>The instance attributes, which tests change to end <c>wait_for_change</c> long polls.</summary>
    public InstanceAttributes Attributes { get; }

    /// <summary>Handles one request; <paramref name="stopping"/> fires when this listener goes away (outage, dispose).</summary>
    public async Task HandleAsync(HttpContext context, CancellationToken stopping)
    {
        // Node's gcp-metadata rejects a 2xx without it and .NET's probe requires it: on every answer, errors included.
        context.Response.Headers["Metadata-Flavor"] = "Google";
        context.Response.Headers.Server = "Metadata Server for VM";

        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith(EmulatorControlApi.PathPrefix, StringComparison.Ordinal))
        {
            await _control.HandleAsync(context);
            return;
        }

        // The real JWKS lives at www.googleapis.com, not on the metadata server: startup failures and faults never touch it.
        if (path == JwksPath && HttpMethods.IsGet(context.Request.Method))
        {
            await HttpAnswers.WriteJsonAsync(context, _keys.ToJwks(), IdentityJsonContext.Default.JsonWebKeySet);
            return;
        }

        // Google's token endpoints are other services than the metadata server: its startup window and faults never touch them.
        if (GoogleTokenEndpoint.Serves(path))
        {
            await Google.HandleAsync(context);
            return;
        }

        var isMetadata = path == MetadataRoot || path.StartsWith(MetadataRoot + "/", StringComparison.Ordinal);
        if (isMetadata && IsIdentityPath(path))
        {
            Counter.Record(GoQuery.Get(context.Request.QueryString.Value, "audience") ?? string.Empty);
        }

        if (InStartupWindow())
        {
            // Only NotFound/Unavailable get here: with Refuse nothing listens during the window.
            var status = _options.StartupFailure == StartupFailure.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status503ServiceUnavailable;
            await WriteHtmlErrorAsync(context, status, "The metadata server is starting.");
            return;
        }

        if (path == "/")
        {
            // The detection probe of the client libraries: no flavor header needed.
            await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, TextContentType, "computeMetadata/\n");
            return;
        }

        if (!isMetadata)
        {
            await WriteHtmlErrorAsync(context, StatusCodes.Status404NotFound, "Not found.");
            return;
        }

        if (!await ApplyFaultsAsync(context, stopping))
        {
            return;
        }

        await HandleMetadataAsync(context, path, stopping);
    }

    private bool InStartupWindow() =>
        _options.StartupWindow > TimeSpan.Zero && _options.Time.GetUtcNow() - _startedAt < _options.StartupWindow;

    private static bool IsIdentityPath(string path) =>
        path.StartsWith(AccountsDirectory + "/", StringComparison.Ordinal) && path.EndsWith("/identity", StringComparison.Ordinal);

    // False when the request must not be answered normally (it was answered with a fault, or abandoned).
    private async Task<bool> ApplyFaultsAsync(HttpContext context, CancellationToken stopping)
    {
        var faults = Faults;
        var latency = faults.Latency;
        if (faults.Hang || latency > TimeSpan.Zero)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, context.RequestAborted);
            try
            {
                await faults.WaitWhileHangingAsync(linked.Token);
                if (latency > TimeSpan.Zero)
                {
                    // Latency is real time on purpose: it exercises the client's own timeouts.
                    await Task.Delay(latency, TimeProvider.System, linked.Token);
                }
            }
            catch (OperationCanceledException)
            {
                // Client gone, or the listener stops: drop the connection as a dying server would.
                context.Abort();
                return false;
            }
        }

        if (faults.Status is { } status)
        {
            await WriteHtmlErrorAsync(context, status, $"Injected fault: HTTP {status}.");
            return false;
        }

        return true;
    }

    private async Task HandleMetadataAsync(HttpContext context, string path, CancellationToken stopping)
    {
        var request = context.Request;
        if (request.Headers.ContainsKey("X-Forwarded-For"))
        {
            // The real server refuses anything that looks proxied, so a sidecar cannot be used as an open relay.
            await WriteHtmlErrorAsync(context, StatusCodes.Status403Forbidden, "Requests with an X-Forwarded-For header are refused.");
            return;
        }

        if (!string.Equals(request.Headers["Metadata-Flavor"], "Google", StringComparison.Ordinal))
        {
            await WriteHtmlErrorAsync(
                context,
                StatusCodes.Status403Forbidden,
                $"Your client does not have permission to get URL {path} from this server. Missing Metadata-Flavor:Google header.");
            return;
        }

        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            await WriteHtmlErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed.");
            return;
        }

        var trailingSlash = path.EndsWith('/');
        var trimmed = path.TrimEnd('/');
        if (trimmed == AttributesDirectory || trimmed.StartsWith(AttributesDirectory + "/", StringComparison.Ordinal))
        {
            await HandleAttributesAsync(context, trimmed, trailingSlash, stopping);
            return;
        }

        if (Directories.TryGetValue(trimmed, out var listing) || trimmed == AccountsDirectory)
        {
            if (!trailingSlash)
            {
                await RedirectToDirectoryAsync(context, trimmed);
                return;
            }

            listing ??= $"default/\n{_options.ServiceAccountEmail}/\n";
            await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, TextContentType, listing);
            return;
        }

        if (trimmed.StartsWith(AccountsDirectory + "/", StringComparison.Ordinal))
        {
            await HandleServiceAccountAsync(context, trimmed[(AccountsDirectory.Length + 1)..], trailingSlash);
            return;
        }

        if (trailingSlash)
        {
            await WriteNotFoundAsync(context);
            return;
        }

        switch (trimmed)
        {
            case "/computeMetadata/v1/project/project-id":
                await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, TextContentType, _projectId);
                break;
            case "/computeMetadata/v1/project/numeric-project-id":
                await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, TextContentType, "123456789012");
                break;
            case "/computeMetadata/v1/universe/universe-domain":
                await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, TextContentType, "googleapis.com");
                break;
            default:
                await WriteNotFoundAsync(context);
                break;
        }
    }

    // rest = "{account}" or "{account}/{leaf}".
    private async Task HandleServiceAccountAsync(HttpContext context, string rest, bool trailingSlash)
    {
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var account = slash < 0 ? rest : rest[..slash];
        var leaf = slash < 0 ? null : rest[(slash + 1)..];
        if (account != "default" && account != _options.ServiceAccountEmail)
        {
            await WriteNotFoundAsync(context);
            return;
        }

        if (leaf is null)
        {
            if (!trailingSlash)
            {
                await RedirectToDirectoryAsync(context, $"{AccountsDirectory}/{account}");
                return;
            }

            if (string.Equals(GoQuery.Get(context.Request.QueryString.Value, "recursive"), "true", StringComparison.OrdinalIgnoreCase))
            {
                var info = new ServiceAccountInfo(["default"], _options.ServiceAccountEmail, Scopes);
                await HttpAnswers.WriteJsonAsync(context, info, MetadataJsonContext.Default.ServiceAccountInfo);
                return;
            }

            await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, TextContentType, "aliases\nemail\nidentity\nscopes\ntoken\n");
            return;
        }

        if (trailingSlash)
        {
            await WriteNotFoundAsync(context);
            return;
        }

        switch (leaf)
        {
            case "email":
                await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, TextContentType, _options.ServiceAccountEmail);
                break;
            case "aliases":
                await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, TextContentType, "default\n");
                break;
            case "scopes":
                await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, TextContentType, string.Join('\n', Scopes) + "\n");
                break;
            case "token":
                // A pod whose Kubernetes service account names no Google one still gets access tokens, of its
                // federated principal (Workload Identity Federation for GKE); IAM can let that principal impersonate.
                var holder = Faults.IdentityRefusal?.UnboundServiceAccount is { } unbound ? FederatedPrincipal(unbound) : _options.ServiceAccountEmail;
                await HttpAnswers.WriteJsonAsync(context, Google.IssueAccessToken(holder), GoogleTokenJsonContext.Default.AccessTokenResponse);
                break;
            case "identity":
                await HandleIdentityAsync(context);
                break;
            default:
                await WriteNotFoundAsync(context);
                break;
        }
    }

    /// <summary>
    /// The principal Workload Identity Federation for GKE gives a Kubernetes service account (<c>NAMESPACE/NAME</c>) of
    /// the project the emulator's account belongs to (named by its id here where the real one has the project number).
    /// </summary>
    internal string FederatedPrincipal(string kubernetesServiceAccount)
    {
        var slash = kubernetesServiceAccount.IndexOf('/', StringComparison.Ordinal);
        return $"principal://iam.googleapis.com/projects/{_projectId}/locations/global/workloadIdentityPools/{_projectId}.svc.id.goog/subject/ns/{kubernetesServiceAccount[..slash]}/sa/{kubernetesServiceAccount[(slash + 1)..]}";
    }

    private async Task HandleIdentityAsync(HttpContext context)
    {
        var audience = GoQuery.Get(context.Request.QueryString.Value, "audience");
        if (string.IsNullOrEmpty(audience))
        {
            await HttpAnswers.WriteAsync(context, StatusCodes.Status400BadRequest, HtmlContentType, "non-empty audience parameter required");
            return;
        }

        if (Faults.IdentityRefusal is { } refusal)
        {
            await HttpAnswers.WriteAsync(context, refusal.Status, "text/plain; charset=utf-8", refusal.Body);
            return;
        }

        // format=full adds the email claims; licenses=TRUE|FALSE is accepted and changes nothing: under Workload
        // Identity there is no "google" claim to put licences in. The body is the bare JWT, never JSON.
        var full = GoQuery.Get(context.Request.QueryString.Value, "format") == "full";
        await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, HtmlContentType, _issuer.Issue(audience, withEmail: full));
    }

    // The attributes directory and its values, with ETags and wait_for_change (last_etag, timeout_sec) as the real
    // server: a long poll answers once its answer's ETag differs from last_etag (from the answer when the poll came
    // in, without one), or with the current answer when timeout_sec runs out.
    private async Task HandleAttributesAsync(HttpContext context, string trimmed, bool trailingSlash, CancellationToken stopping)
    {
        if (trimmed == AttributesDirectory && !trailingSlash)
        {
            await RedirectToDirectoryAsync(context, trimmed);
            return;
        }

        var query = context.Request.QueryString.Value;
        var name = trimmed == AttributesDirectory ? null : trimmed[(AttributesDirectory.Length + 1)..];
        if (name is not null && (trailingSlash || name.Contains('/', StringComparison.Ordinal)))
        {
            await WriteNotFoundAsync(context);
            return;
        }

        var recursive = string.Equals(GoQuery.Get(query, "recursive"), "true", StringComparison.OrdinalIgnoreCase);
        var wait = string.Equals(GoQuery.Get(query, "wait_for_change"), "true", StringComparison.OrdinalIgnoreCase);
        var lastEtag = GoQuery.Get(query, "last_etag");
        var timeout = int.TryParse(GoQuery.Get(query, "timeout_sec"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : Timeout.InfiniteTimeSpan;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, context.RequestAborted);
        var timedOut = timeout == Timeout.InfiniteTimeSpan ? Task.Delay(Timeout.Infinite, linked.Token) : Task.Delay(timeout, _options.Time, linked.Token);
        while (true)
        {
            var (values, nextChange) = Attributes.Snapshot();
            string? body;
            string contentType = TextContentType;
            if (name is not null)
            {
                body = values.GetValueOrDefault(name);
            }
            else if (recursive)
            {
                body = JsonSerializer.Serialize(new Dictionary<string, string>(values, StringComparer.Ordinal), MetadataJsonContext.Default.DictionaryStringString);
                contentType = "application/json";
            }
            else
            {
                body = string.Concat(values.Keys.Select(key => key + "\n"));
            }

            if (body is null)
            {
                await WriteNotFoundAsync(context);
                return;
            }

            var etag = InstanceAttributes.ETag(body);
            lastEtag ??= wait ? etag : null;
            if (!wait || etag != lastEtag || timedOut.IsCompleted)
            {
                context.Response.Headers.ETag = etag;
                await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, contentType, body);
                return;
            }

            try
            {
                await Task.WhenAny(nextChange, timedOut).WaitAsync(linked.Token);
            }
            catch (OperationCanceledException)
            {
                context.Abort();
                return;
            }
        }
    }

    private static Task RedirectToDirectoryAsync(HttpContext context, string directory)
    {
        context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
        context.Response.Headers.Location = directory + "/" + context.Request.QueryString.Value;
        context.Response.ContentType = HtmlContentType;
        return context.Response.WriteAsync($"<a href=\"{directory}/\">Moved Permanently</a>.\n");
    }

    private static Task WriteNotFoundAsync(HttpContext context) =>
        WriteHtmlErrorAsync(context, StatusCodes.Status404NotFound, "The requested URL was not found on this server.");

    private static Task WriteHtmlErrorAsync(HttpContext context, int status, string message) =>
        HttpAnswers.WriteAsync(
            context,
            status,
            HtmlContentType,
            $"<!DOCTYPE html>\n<html lang=en>\n<meta charset=utf-8>\n<title>Error {status}</title>\n<p><b>{status}.</b> {System.Net.WebUtility.HtmlEncode(message)}\n");
}
