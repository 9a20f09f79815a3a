using TokenInjector.Configuration;
using TokenInjector.Tokens;

namespace TokenInjector.Proxy;

/// <summary>
/// The token chosen for one proxied request and the header its target names (null: the sidecar's default), handed
/// from the route to the request transformer.
/// </summary>
internal sealed class ForwardedToken(IdToken token, AuthHeaderMode? header)
{
    public IdToken Token { get; } = token;

    public AuthHeaderMode? Header { get; } = header;
}
