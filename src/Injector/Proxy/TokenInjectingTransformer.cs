using Microsoft.AspNetCore.Http.Features;
using TokenInjector.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Proxy;

/// <summary>
/// Adds the request's ID token to the upstream request, and leaves <c>:authority</c>/<c>Host</c> to come from the
/// upstream URL (the Cloud Run host), whatever the app dialled locally. A forward-proxy request
/// (<c>GET http://HOST/path</c>) keeps its path and query exactly as the app sent them: Kestrel hands such a request on
/// with the path decoded (<c>%2F</c> becoming <c>/</c>) and its dot segments removed, which would change what it asks
/// for. A request with a body gets its flushes deferred (<see cref="RequestFlushDeferral"/>). The token goes in the
/// header its target names, else in <paramref name="defaultMode"/>'s; the other two headers pass as the app sent them
/// (YARP drops the app's <c>Proxy-Authorization</c>, which is addressed to a proxy, not to the service).
/// </summary>
internal sealed class TokenInjectingTransformer(AuthHeaderMode defaultMode) : HttpTransformer
{

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        if (AbsoluteFormPathAndQuery(httpContext) is { } pathAndQuery)
        {
            proxyRequest.RequestUri = new Uri(destinationPrefix.TrimEnd('/') + pathAndQuery);
        }

        proxyRequest.Headers.Host = null;
        var routeToken = httpContext.Features.Get<ForwardedToken>()!;
        var header = AuthHeaderModes.Header(routeToken.Header ?? defaultMode);
        proxyRequest.Headers.Remove(header);
        proxyRequest.Headers.TryAddWithoutValidation(header, "Bearer " + routeToken.Token.Value);
        if (proxyRequest.Content is not null)
        {
            RequestFlushDeferral.Install(httpContext, proxyRequest);
        }
    }

    // "http://host:80/a%2Fb?q" -> "/a%2Fb?q" ("/" when the URL has no path); null for an origin-form target.
    private static string? AbsoluteFormPathAndQuery(HttpContext httpContext)
    {
        var target = httpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (target is null || target.StartsWith('/') || target.IndexOf("://", StringComparison.Ordinal) is not (> 0 and var schemeEnd))
        {
            return null;
        }

        var authorityStart = schemeEnd + 3;
        var pathStart = target.AsSpan(authorityStart).IndexOfAny('/', '?');
        if (pathStart < 0)
        {
            return "/";
        }

        var pathAndQuery = target[(authorityStart + pathStart)..];
        return pathAndQuery.StartsWith('?') ? "/" + pathAndQuery : pathAndQuery;
    }
}
