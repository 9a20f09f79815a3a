using Microsoft.AspNetCore.Http.Features;

namespace TokenInjector.Proxy;

/// <summary>
/// Stands in for the HTTP/2 stream reset while a gRPC call is forwarded. When the upstream fails after the response
/// has started, YARP resets the app's stream, which a gRPC client reads as CANCELLED (as if it had cancelled the call
/// itself). Holding the reset back lets the route end the call with a proper status instead (UNAVAILABLE in the
/// trailers), and still reset the stream when that is the right answer (the app itself went away).
/// </summary>
internal sealed class DeferredStreamReset(IHttpResetFeature inner) : IHttpResetFeature
{
    /// <summary>The HTTP/2 error code a reset was asked for with; null when none was.</summary>
    public int? RequestedErrorCode { get; private set; }

    /// <summary>Replaces the connection's reset feature for the rest of this request; null when there is none (HTTP/1.1).</summary>
    public static DeferredStreamReset? Install(HttpContext context)
    {
        if (context.Features.Get<IHttpResetFeature>() is not { } inner)
        {
            return null;
        }

        var deferred = new DeferredStreamReset(inner);
        context.Features.Set<IHttpResetFeature>(deferred);
        return deferred;
    }

    public void Reset(int errorCode) => RequestedErrorCode ??= errorCode;

    /// <summary>Resets the stream as was asked, when it was.</summary>
    public void Apply()
    {
        if (RequestedErrorCode is { } errorCode)
        {
            inner.Reset(errorCode);
        }
    }
}
