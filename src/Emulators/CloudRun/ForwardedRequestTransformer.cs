using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// Shapes the request the container sees, as Cloud Run does: the verified token stays in its header but with the
/// signature replaced, the original <c>Host</c>/<c>:authority</c> is kept, and X-Forwarded-* tell the original
/// scheme and client. A token that came in a header the front end consumes (<paramref name="tokenHeader"/> null:
/// IAP's <c>Proxy-Authorization</c>) is not passed on.
/// </summary>
internal sealed class ForwardedRequestTransformer(string? tokenHeader, string redactedToken) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        if (tokenHeader is not null)
        {
            proxyRequest.Headers.Remove(tokenHeader);
            proxyRequest.Headers.TryAddWithoutValidation(tokenHeader, "Bearer " + redactedToken);
        }
        proxyRequest.Headers.Host = httpContext.Request.Host.Value;
        proxyRequest.Headers.Remove("X-Forwarded-Proto");
        proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        if (httpContext.Connection.RemoteIpAddress is { } client)
        {
            proxyRequest.Headers.Remove("X-Forwarded-For");
            proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-For", client.ToString());
        }
    }
}
