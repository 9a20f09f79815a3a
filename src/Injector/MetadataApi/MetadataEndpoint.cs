using System.Globalization;
using System.Net;
using TokenInjector.Tokens;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.MetadataApi;

/// <summary>
/// Answers one request to the metadata endpoint as the GKE metadata server would: the identity endpoint from the
/// token cache, everything else under <c>/computeMetadata/</c> and the detection ping <c>/</c> forwarded to the real
/// server unchanged and streamed (or, off GKE, answered from <see cref="LocalMetadata"/> where the credentials tell and
/// 404 otherwise). Its own edges are the real server's: 403 without <c>Metadata-Flavor: Google</c>, 403 with
/// <c>X-Forwarded-For</c>, every answer carrying <c>Metadata-Flavor: Google</c>. Bodies never hold a token but the
/// identity answer itself.
/// </summary>
internal sealed class MetadataEndpoint(
    MetadataOptions options,
    ITokenCache cache,
    int learnedLimit,
    IHttpForwarder forwarder,
    HttpMessageInvoker server,
    MetadataMetrics metrics,
    ILogger logger)
{
    public const string Root = "/computeMetadata";
    public const string AccountsDirectory = Root + "/v1/instance/service-accounts/";
    private const string FlavorHeader = "Metadata-Flavor";
    private const string Flavor = "Google";
    private const string HtmlContentType = "text/html; charset=utf-8";
    private const string TextContentType = "application/text";

    private static readonly ForwarderRequestConfig ForwardConfig = new()
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        // wait_for_change long polls stay open as long as the client's own timeout_sec or deadline says.
        ActivityTimeout = TimeSpan.FromMinutes(30),
    };

    private readonly string _destination = options.MetadataServer is { } host ? "http://" + host + "/" : string.Empty;
    private readonly DefaultAccount _defaultAccount = new(options, server);

    public async Task HandleAsync(HttpContext context)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var kind = await AnswerAsync(context);
        metrics.Count(kind, context.Response.StatusCode, started);
    }

    private async Task<string> AnswerAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        context.Response.Headers[FlavorHeader] = Flavor;

        if (request.Headers.ContainsKey("X-Forwarded-For"))
        {
            // As the real server: a proxied request is refused, so no one reaches the pod's identity through a relay.
            return await RefuseAsync(context, StatusCodes.Status403Forbidden, "Requests with an X-Forwarded-For header are refused.");
        }

        if (HttpMethods.IsConnect(request.Method))
        {
            // Never a tunnel to the metadata server (and YARP cannot forward one).
            return await RefuseAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed.");
        }

        var isMetadata = path == Root || path.StartsWith(Root + "/", StringComparison.Ordinal);
        if (!isMetadata && path != "/")
        {
            return await RefuseAsync(context, StatusCodes.Status404NotFound, "token-injector: this endpoint serves / and /computeMetadata/ only.");
        }

        if (isMetadata && !string.Equals(request.Headers[FlavorHeader], Flavor, StringComparison.Ordinal))
        {
            return await RefuseAsync(
                context, StatusCodes.Status403Forbidden, $"Your client does not have permission to get URL {path} from this server. Missing Metadata-Flavor:Google header.");
        }

        if (Account(path, "/identity") is { } account && (account == "default" || await _defaultAccount.IsAsync(account, context.RequestAborted)))
        {
            await IdentityAsync(context);
            return MetadataMetrics.Identity;
        }

        if (options.MetadataServer is null)
        {
            await LocalAsync(context, path);
            return MetadataMetrics.Local;
        }

        await ForwardAsync(context);
        return MetadataMetrics.Forwarded;
    }

    /// <summary>The account of <c>.../service-accounts/{account}{leaf}</c>, or null for any other path.</summary>
    private static string? Account(string path, string leaf)
    {
        if (!path.StartsWith(AccountsDirectory, StringComparison.Ordinal) || !path.EndsWith(leaf, StringComparison.Ordinal))
        {
            return null;
        }

        var account = path[AccountsDirectory.Length..^leaf.Length];
        return account.Length > 0 && !account.Contains('/', StringComparison.Ordinal) ? account : null;
    }

    private async Task IdentityAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            await WriteAsync(context, StatusCodes.Status405MethodNotAllowed, HtmlContentType, Html(StatusCodes.Status405MethodNotAllowed, "Method not allowed."));
            return;
        }

        if (IdentityQuery.Parse(context.Request.Query, out var problem) is not { } key)
        {
            // The real server's 400 is the bare sentence; the sidecar's own checks say what is wrong the same way.
            var body = problem == IdentityQuery.MissingAudience ? problem : "token-injector: " + problem + "\n";
            await WriteAsync(context, StatusCodes.Status400BadRequest, HtmlContentType, body);
            return;
        }

        var lookup = await cache.GetTokenAsync(key, DynamicAudienceOverflow.Refuse, context.RequestAborted);
        switch (lookup.Status)
        {
            case TokenLookupStatus.Ok:
                context.Response.Headers.CacheControl = "no-store";
                await WriteAsync(context, StatusCodes.Status200OK, HtmlContentType, lookup.Token!.Value);
                break;
            case TokenLookupStatus.NotAllowed:
                await WriteAsync(context, StatusCodes.Status403Forbidden, HtmlContentType,
                    $"token-injector: {key.Audience} is not a configured audience and dynamic audiences are off (add --audience {key.Audience})\n");
                break;
            case TokenLookupStatus.LimitReached:
                logger.LimitReached(key.Audience, learnedLimit);
                SetRetryAfter(context, lookup.RetryAfter);
                await WriteAsync(context, StatusCodes.Status429TooManyRequests, HtmlContentType,
                    $"token-injector: no room for another audience: {lookup.Problem}; configure this one with --audience, or retry once unused ones expire (--dynamic-audience-idle)\n");
                break;
            default:
                logger.NoToken(key.Audience, IdentityQuery.Describe(key.Format));
                var seconds = SetRetryAfter(context, lookup.RetryAfter);
                await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, HtmlContentType,
                    $"token-injector: no ID token for this audience yet ({lookup.Problem ?? "the token is being fetched"}); retry in {seconds} s\n");
                break;
        }
    }

    private async Task ForwardAsync(HttpContext context)
    {
        // The server's answer brings its own flavor header. HttpTransformer.Empty copies the request as it came:
        // the default one adds X-Forwarded-*, which the real server refuses.
        context.Response.Headers.Remove(FlavorHeader);
        var error = await forwarder.SendAsync(context, _destination, server, ForwardConfig, HttpTransformer.Empty);
        if (error != ForwarderError.None && !context.Response.HasStarted)
        {
            var reason = context.GetForwarderErrorFeature()?.Exception?.Message ?? error.ToString();
            logger.ForwardFailed(options.MetadataServer!, error.ToString(), reason);
            context.Response.Clear();
            context.Response.Headers[FlavorHeader] = Flavor;
            await WriteAsync(context, StatusCodes.Status502BadGateway, HtmlContentType,
                Html(StatusCodes.Status502BadGateway, $"token-injector: the metadata server at {options.MetadataServer} failed ({error})."));
        }
    }

    // Off GKE: the detection ping, the account's email and the project id where the credentials tell; 404 saying why otherwise.
    private Task LocalAsync(HttpContext context, string path)
    {
        var local = options.Local;
        string? answer = path switch
        {
            "/" => "computeMetadata/\n",
            Root or Root + "/" => "v1/\n",
            Root + "/v1" or Root + "/v1/" => "instance/\nproject/\n",
            Root + "/v1/instance" or Root + "/v1/instance/" => "service-accounts/\n",
            Root + "/v1/project/project-id" => local.ProjectId,
            _ when Account(path, "/email") is { } account && (account == "default" || account == local.ServiceAccountEmail) => local.ServiceAccountEmail,
            _ => null,
        };
        if (answer is not null && HttpMethods.IsGet(context.Request.Method))
        {
            return WriteAsync(context, StatusCodes.Status200OK, TextContentType, answer);
        }

        return WriteAsync(context, StatusCodes.Status404NotFound, HtmlContentType, Html(StatusCodes.Status404NotFound,
            "token-injector: off GKE (--token-source adc) no metadata server stands behind this endpoint; it answers the identity endpoint from the credentials,"
            + " the detection ping, and the account's email and the project id where the credentials tell."));
    }

    private async Task<string> RefuseAsync(HttpContext context, int status, string message)
    {
        logger.Refused(status, message);
        await WriteAsync(context, status, HtmlContentType, Html(status, message));
        return MetadataMetrics.Refused;
    }

    private static int SetRetryAfter(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Min(Math.Ceiling(retryAfter.TotalSeconds), int.MaxValue));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }

    // The real server's error page, in its shape.
    private static string Html(int status, string message) =>
        $"<!DOCTYPE html>\n<html lang=en>\n<meta charset=utf-8>\n<title>Error {status}</title>\n<p><b>{status}.</b> {WebUtility.HtmlEncode(message)}\n";

    private static Task WriteAsync(HttpContext context, int status, string contentType, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>
    /// Whether an account named by email is the default one, whose tokens the cache holds: off GKE the credentials
    /// tell; on GKE the metadata server's <c>default/email</c> does, asked once (a failed ask is asked again next time).
    /// </summary>
    private sealed class DefaultAccount(MetadataOptions options, HttpMessageInvoker server)
    {
        private string? _email = options.MetadataServer is null ? options.Local.ServiceAccountEmail : null;

        public async ValueTask<bool> IsAsync(string account, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _email) is null && options.MetadataServer is { } host)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{host}{AccountsDirectory}default/email");
                request.Headers.Add(FlavorHeader, Flavor);
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                limit.CancelAfter(options.FetchTimeout);
                try
                {
                    using var response = await server.SendAsync(request, limit.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        Volatile.Write(ref _email, (await response.Content.ReadAsStringAsync(limit.Token)).Trim());
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                {
                    // Unknown for now: the request is forwarded, and the real server answers it.
                }
            }

            return string.Equals(account, Volatile.Read(ref _email), StringComparison.OrdinalIgnoreCase);
        }
    }
}
