using TokenInjector.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Proxy;

/// <summary>
/// Adds the route's ID token to the upstream request, and leaves <c>:authority</c>/<c>Host</c> to come from the
/// upstream URL (the Cloud Run host), whatever the app dialled locally.
/// </summary>
internal sealed class TokenInjectingTransformer(AuthHeaderMode mode) : HttpTransformer
{
    private readonly string _header = mode == AuthHeaderMode.Authorization ? "Authorization" : "X-Serverless-Authorization";

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.Headers.Host = null;
        proxyRequest.Headers.Remove(_header);
        var token = httpContext.Features.Get<RouteToken>()!.Token;
        proxyRequest.Headers.TryAddWithoutValidation(_header, "Bearer " + token.Value);
    }
}
