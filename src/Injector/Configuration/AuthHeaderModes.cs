namespace TokenInjector.Configuration;

/// <summary>Which request header carries the token a route or an egress host adds.</summary>
internal enum AuthHeaderMode
{
    /// <summary><c>Authorization: Bearer</c>, replacing the app's own.</summary>
    Authorization,

    /// <summary><c>X-Serverless-Authorization: Bearer</c>, so the app's own <c>Authorization</c> reaches the service.</summary>
    XServerlessAuthorization,

    /// <summary>
    /// <c>Proxy-Authorization: Bearer</c>, for targets behind Identity-Aware Proxy, which reads the token there and
    /// leaves the app's own <c>Authorization</c> to the app.
    /// </summary>
    ProxyAuthorization,
}

/// <summary>
/// The header modes by name, one table for <c>--auth-header</c>, the <c>;header=MODE</c> parameter of
/// <c>--route</c> and <c>--egress-host</c>, and the webhook's annotations.
/// </summary>
internal static class AuthHeaderModes
{
    public static readonly IReadOnlyDictionary<string, AuthHeaderMode> ByName = new Dictionary<string, AuthHeaderMode>(StringComparer.Ordinal)
    {
        ["authorization"] = AuthHeaderMode.Authorization,
        ["x-serverless-authorization"] = AuthHeaderMode.XServerlessAuthorization,
        ["proxy-authorization"] = AuthHeaderMode.ProxyAuthorization,
    };

    /// <summary>The names, as help and messages list them.</summary>
    public static readonly string Names = string.Join("|", ByName.Keys);

    public static string Name(AuthHeaderMode mode) => ByName.First(pair => pair.Value == mode).Key;

    /// <summary>The HTTP header the mode writes.</summary>
    public static string Header(AuthHeaderMode mode) => mode switch
    {
        AuthHeaderMode.Authorization => "Authorization",
        AuthHeaderMode.XServerlessAuthorization => "X-Serverless-Authorization",
        _ => "Proxy-Authorization",
    };
}
