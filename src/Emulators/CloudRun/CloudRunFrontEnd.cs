using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// The request pipeline of the emulator: the stats endpoint, then the token check, then forwarding to the
/// container over h2c with a request timeout. Rejections look like Cloud Run's (HTML, no <c>grpc-status</c>),
/// so a gRPC client sees the HTTP status mapped to UNAUTHENTICATED or PERMISSION_DENIED exactly as in production.
/// </summary>
internal sealed class CloudRunFrontEnd(
    CloudRunEmulatorOptions options,
    IdTokenValidator validator,
    CloudRunStats stats,
    IHttpForwarder forwarder,
    HttpMessageInvoker upstreamClient,
    ILogger logger)
{
    /// <summary>The control endpoint; served without auth, like nothing in real Cloud Run, so keep the path unlikely.</summary>
    public const string StatsPath = "/emulator/stats";

    private const string ServerlessAuthorization = "X-Serverless-Authorization";

    private readonly string _destinationPrefix = options.Upstream.GetLeftPart(UriPartial.Authority);

    // Version 2.0 exact over http:// is HTTP/2 with prior knowledge (h2c), what "HTTP/2 end-to-end" speaks. YARP's
    // own idle timeout (100 s by default) would cut streams short of Cloud Run's timeout, so it gets the same value.
    private readonly ForwarderRequestConfig _requestConfig = new()
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        ActivityTimeout = options.RequestTimeout,
    };

    public async Task HandleAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path == StatsPath)
        {
            await WriteStatsAsync(context);
            return;
        }

        // Cloud Run checks X-Serverless-Authorization first, so that Authorization stays free for the app's own use;
        // IAP reads Proxy-Authorization first, for the same reason.
        var first = options.IapAudience is null ? ServerlessAuthorization : HeaderNames.ProxyAuthorization;
        var headerName = context.Request.Headers.ContainsKey(first) ? first
            : context.Request.Headers.ContainsKey(HeaderNames.Authorization) ? HeaderNames.Authorization
            : null;
        if (headerName is null)
        {
            await RejectAsync(context, RejectionReasons.Missing);
            return;
        }

        var result = ReadBearer(context.Request.Headers[headerName].ToString()) is { } token
            ? await validator.ValidateAsync(token, context.RequestAborted)
            : TokenCheckResult.Reject(RejectionReasons.Malformed);
        if (!result.IsValid)
        {
            await RejectAsync(context, result.RejectionReason!);
            return;
        }

        var authority = context.Request.Host.Value ?? string.Empty;
        stats.RecordAccepted(result.PayloadHash!, result.Caller!, ServerName(context), authority);
        CloudRunLog.Forwarding(logger, context.Request.Method, context.Request.Path, authority);
        // Proxy-Authorization is addressed to the proxy: IAP consumes it, and the container never sees it.
        await ForwardAsync(context, new ForwardedRequestTransformer(
            headerName == HeaderNames.ProxyAuthorization ? null : headerName, result.RedactedToken!));
    }

    private async Task ForwardAsync(HttpContext context, HttpTransformer transformer)
    {
        using var timeout = new CancellationTokenSource(options.RequestTimeout, options.Time);
        var error = await forwarder.SendAsync(context, _destinationPrefix, upstreamClient, _requestConfig, transformer, timeout.Token);
        if (error == ForwarderError.None)
        {
            return;
        }

        var timedOut = (timeout.IsCancellationRequested || error == ForwarderError.RequestTimedOut)
            && !context.RequestAborted.IsCancellationRequested;
        if (!timedOut)
        {
            if (logger.IsEnabled(LogLevel.Warning))
            {
                CloudRunLog.ForwardFailed(logger, context.Request.Method, context.Request.Path, error,
                    context.Features.Get<IForwarderErrorFeature>()?.Exception);
            }

            return;
        }

        CloudRunLog.TimedOut(logger, context.Request.Method, context.Request.Path, options.RequestTimeout);
        if (context.Response.HasStarted)
        {
            // Headers already went out (a stream): all that is left is to cut it, as the real timeout does.
            context.Abort();
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync("upstream request timeout", CancellationToken.None);
    }

    /// <summary>The SNI host name the client sent; the server side of an SslStream reports it as TargetHostName.</summary>
    private static string? ServerName(HttpContext context) =>
        context.Features.Get<ITlsHandshakeFeature>()?.HostName is { Length: > 0 } hostName ? hostName
            : context.Features.Get<ISslStreamFeature>()?.SslStream.TargetHostName is { Length: > 0 } target ? target
            : null;

    private static string? ReadBearer(string value)
    {
        const string Scheme = "Bearer ";
        if (!value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = value[Scheme.Length..].Trim();
        return token.Length == 0 ? null : token;
    }

    private async Task RejectAsync(HttpContext context, string reason)
    {
        var status = reason switch
        {
            RejectionReasons.NotInvoker => StatusCodes.Status403Forbidden,
            RejectionReasons.WrongAudience when options.WrongAudienceIsForbidden => StatusCodes.Status403Forbidden,
            _ => StatusCodes.Status401Unauthorized,
        };
        stats.RecordRejected(reason);
        CloudRunLog.Rejected(logger, context.Request.Method, context.Request.Path, status, reason);

        // No grpc-status, on purpose: gRPC clients then map the HTTP status (401 → UNAUTHENTICATED,
        // 403 → PERMISSION_DENIED), which is what callers of a real Cloud Run service see.
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=UTF-8";
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate =
                "Bearer error=\"invalid_token\" error_description=\"The access token could not be verified\"";
        }

        var (title, heading) = status == StatusCodes.Status401Unauthorized
            ? ("401 Unauthorized", "Error: Unauthorized")
            : ("403 Forbidden", "Error: Forbidden");
        var path = HtmlEncoder.Default.Encode(context.Request.Path.Value ?? "/");
        await context.Response.WriteAsync(
            $"<html><head>\n<meta http-equiv=\"content-type\" content=\"text/html;charset=utf-8\">\n<title>{title}</title>\n</head>\n"
            + $"<body text=#000000 bgcolor=#ffffff>\n<h1>{heading}</h1>\n"
            + $"<h2>Your client does not have permission to the requested URL <code>{path}</code>.</h2>\n<h2></h2>\n</body></html>\n",
            context.RequestAborted);
    }

    private async Task WriteStatsAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        await using (var writer = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true }))
        {
            stats.WriteJson(writer);
        }
    }
}
