using TokenInjector.Tokens;

namespace TokenInjector.Proxy;

/// <summary>The token chosen for one proxied request, handed from the route to the request transformer.</summary>
internal sealed class RouteToken(IdToken token)
{
    public IdToken Token { get; } = token;
}
