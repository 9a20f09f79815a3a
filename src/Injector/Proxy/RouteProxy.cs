using System.Globalization;
using TokenInjector.Configuration;
using TokenInjector.Tokens;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Proxy;

/// <summary>
/// One route: every request gets the route's token and is forwarded to the upstream over TLS. Fails closed: with
/// no usable token the request is answered here (gRPC UNAVAILABLE / HTTP 503) and never forwarded. An upstream
/// that cannot be reached is answered the same way (HTTP 502), and a gRPC call the upstream breaks off after its
/// response started ends with UNAVAILABLE in its trailers. An upstream 401 asks the cache for one early refresh of
/// the token that was refused.
/// </summary>
internal sealed class RouteProxy(
    RouteSpec route,
    ITokenCache cache,
    IHttpForwarder forwarder,
    HttpMessageInvoker upstream,
    HttpTransformer transformer,
    ProxyMetrics metrics,
    ILogger logger)
{
    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        Version = System.Net.HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        // Long streams may be quiet for a while; an app's own deadline still ends a call early.
        ActivityTimeout = TimeSpan.FromMinutes(30),
    };

    private readonly string _destination = route.Upstream.ToString();
    private readonly string _label = route.ListenPort.ToString(CultureInfo.InvariantCulture);

    public async Task HandleAsync(HttpContext context)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var isGrpc = context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
        var lookup = await cache.GetTokenAsync(route.Audience, context.RequestAborted);
        if (lookup.Status != TokenLookupStatus.Ok)
        {
            logger.NoToken(route.ListenPort, route.Audience);
            await FailAsync(context, isGrpc, StatusCodes.Status503ServiceUnavailable,
                $"token-injector: no ID token for {route.Audience} ({lookup.Problem ?? "not available yet"}); the request was not forwarded");
            Record(context, isGrpc, started);
            return;
        }

        context.Features.Set(new RouteToken(lookup.Token!));
        var reset = isGrpc ? DeferredStreamReset.Install(context) : null;
        var error = await forwarder.SendAsync(context, _destination, upstream, RequestConfig, transformer);
        if (error != ForwarderError.None && !context.Response.HasStarted)
        {
            var reason = ReportUpstreamFailure(context, error);
            await FailAsync(context, isGrpc, StatusCodes.Status502BadGateway, $"token-injector: upstream {route.Authority} failed ({error}): {reason}");
        }
        else if (reset?.RequestedErrorCode is not null && !context.RequestAborted.IsCancellationRequested)
        {
            // A call whose response had started broke off while the app was still there: the upstream cut the stream.
            // (YARP may report it as a request body error from the client: with a bidi stream it cannot tell which side
            // failed first.) End it with the status of an unreachable upstream, which the app can act on, rather than
            // the reset YARP asked for, which the app would read as CANCELLED.
            var reason = ReportUpstreamFailure(context, error);
            context.Response.AppendTrailer("grpc-status", GrpcStatusNames.Unavailable.ToString(CultureInfo.InvariantCulture));
            context.Response.AppendTrailer("grpc-message", Uri.EscapeDataString($"token-injector: upstream {route.Authority} failed mid-call ({error}): {reason}"));
        }
        else
        {
            reset?.Apply();
            if (context.Response.StatusCode == StatusCodes.Status401Unauthorized)
            {
                metrics.UpstreamRejections.WithLabels(_label).Inc();
                logger.UpstreamRejected(route.ListenPort, route.Audience);
                cache.ReportRejected(route.Audience, lookup.Token!);
            }
        }

        Record(context, isGrpc, started);
    }

    private string ReportUpstreamFailure(HttpContext context, ForwarderError error)
    {
        var reason = context.GetForwarderErrorFeature()?.Exception?.Message ?? error.ToString();
        logger.UpstreamFailed(route.ListenPort, route.Authority, error, reason);
        return reason;
    }

    private static Task FailAsync(HttpContext context, bool isGrpc, int httpStatus, string message)
    {
        var response = context.Response;
        response.Clear();
        if (isGrpc)
        {
            // A trailers-only gRPC response: the status travels in the headers of an otherwise empty answer.
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = GrpcStatusNames.Unavailable.ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(message);
            return Task.CompletedTask;
        }

        response.StatusCode = httpStatus;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(message + "\n");
    }

    private void Record(HttpContext context, bool isGrpc, long started)
    {
        var code = context.Response.StatusCode.ToString(CultureInfo.InvariantCulture);
        if (isGrpc && context.Response.StatusCode == StatusCodes.Status200OK)
        {
            var status = context.Response.Headers["grpc-status"].ToString();
            if (status.Length == 0)
            {
                status = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].ToString() ?? string.Empty;
            }

            code = GrpcStatusNames.Name(status) ?? code;
        }

        metrics.Requests.WithLabels(_label, code).Inc();
        metrics.Duration.WithLabels(_label).Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
