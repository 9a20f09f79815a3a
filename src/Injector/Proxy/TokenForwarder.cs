using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using TokenInjector.Plumbing;
using TokenInjector.Tokens;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Proxy;

/// <summary>
/// Forwards one request to its <see cref="ForwardingTarget"/> with a token for the target's audience, for the routes
/// and the egress listener alike. Fails closed: with no usable token the request is answered here (gRPC UNAVAILABLE /
/// HTTP 503) and never forwarded. An upstream that cannot be reached is answered the same way (HTTP 502), and a gRPC
/// call the upstream breaks off after its response started ends with UNAVAILABLE in its trailers. An upstream 401 asks
/// the cache for one early refresh of the token that was refused. Every request, refusals included, is counted under
/// its target's route label.
/// </summary>
internal sealed class TokenForwarder(
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

    public async Task ForwardAsync(HttpContext context, ForwardingTarget target)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var isGrpc = IsGrpc(context);
        var lookup = await cache.GetTokenAsync(target.Audience, context.RequestAborted);
        if (lookup.Status == TokenLookupStatus.NotAllowed)
        {
            // Only the egress listener meets this: a route's audience is always configured.
            await AnswerAsync(context, isGrpc, new Refusal(
                StatusCodes.Status403Forbidden,
                $"token-injector: {target.Audience} is not a configured audience and dynamic audiences are off; the request was not forwarded (add --audience {target.Audience})"));
            Record(context, target.Listener, isGrpc, started);
            return;
        }

        if (lookup.Status != TokenLookupStatus.Ok)
        {
            logger.NoToken(target.Listener, target.Audience);
            await AnswerAsync(context, isGrpc, new Refusal(
                StatusCodes.Status503ServiceUnavailable,
                $"token-injector: no ID token for {target.Audience} ({lookup.Problem ?? "not available yet"}); the request was not forwarded"));
            Record(context, target.Listener, isGrpc, started);
            return;
        }

        context.Features.Set(new ForwardedToken(lookup.Token!, target.Header));
        var reset = isGrpc ? DeferredStreamReset.Install(context) : null;
        var error = await forwarder.SendAsync(context, target.Destination, upstream, RequestConfig, transformer);
        if (error != ForwarderError.None && !context.Response.HasStarted)
        {
            var reason = ReportUpstreamFailure(context, target, error);
            await AnswerAsync(context, isGrpc, new Refusal(
                StatusCodes.Status502BadGateway, $"token-injector: upstream {target.Authority} failed ({error}): {reason}"));
        }
        else if (reset?.RequestedErrorCode is not null && !context.RequestAborted.IsCancellationRequested)
        {
            // A call whose response had started broke off while the app was still there: the upstream cut the stream.
            // (YARP may report it as a request body error from the client: with a bidi stream it cannot tell which side
            // failed first.) End it with the status of an unreachable upstream, which the app can act on, rather than
            // the reset YARP asked for, which the app would read as CANCELLED.
            var reason = ReportUpstreamFailure(context, target, error);
            context.Response.AppendTrailer("grpc-status", GrpcStatusNames.Unavailable.ToString(CultureInfo.InvariantCulture));
            context.Response.AppendTrailer("grpc-message", Uri.EscapeDataString($"token-injector: upstream {target.Authority} failed mid-call ({error}): {reason}"));
        }
        else
        {
            reset?.Apply();
            if (context.Response.StatusCode == StatusCodes.Status401Unauthorized)
            {
                metrics.UpstreamRejections.WithLabels(target.Listener).Inc();
                logger.UpstreamRejected(target.Listener, target.Audience);
                cache.ReportRejected(target.Audience, lookup.Token!);
            }
        }

        Record(context, target.Listener, isGrpc, started);
    }

    /// <summary>Answers the request here, without forwarding it, and counts it under <paramref name="route"/>.</summary>
    public async Task RefuseAsync(HttpContext context, string route, Refusal refusal)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var isGrpc = IsGrpc(context);
        await AnswerAsync(context, isGrpc, refusal);
        Record(context, route, isGrpc, started);
    }

    private static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    private string ReportUpstreamFailure(HttpContext context, ForwardingTarget target, ForwarderError error)
    {
        var reason = context.GetForwarderErrorFeature()?.Exception?.Message ?? error.ToString();
        logger.UpstreamFailed(target.Listener, target.Authority, error, reason);
        return reason;
    }

    private static Task AnswerAsync(HttpContext context, bool isGrpc, Refusal refusal)
    {
        var response = context.Response;
        response.Clear();
        if (isGrpc)
        {
            // A trailers-only gRPC response: the status travels in the headers of an otherwise empty answer.
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = GrpcStatusNames.ForHttpStatus(refusal.StatusCode).ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(refusal.Message);
            return Task.CompletedTask;
        }

        return PlainText.WriteAsync(response, refusal.StatusCode, refusal.Message);
    }

    private void Record(HttpContext context, string route, bool isGrpc, long started)
    {
        var code = context.Response.StatusCode.ToString(CultureInfo.InvariantCulture);
        if (isGrpc && context.Response.StatusCode == StatusCodes.Status200OK)
        {
            var status = context.Response.Headers["grpc-status"].ToString();
            if (status.Length == 0)
            {
                status = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].ToString() ?? string.Empty;
            }

            code = GrpcStatusNames.Name(status) ?? code;
        }

        metrics.Count(route, code, started);
    }
}
