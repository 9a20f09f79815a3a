namespace TokenInjector.Tokens;

/// <summary>The sidecar's tokens: what the socket API, the proxy and readiness read.</summary>
internal interface ITokenCache
{
    /// <summary>
    /// A usable token for the audience. Never waits on the metadata server while a usable token is cached; when
    /// none is, joins the one fetch in flight (or starts one unless a retry is pending) and waits at most for it.
    /// </summary>
    ValueTask<TokenLookup> GetTokenAsync(string audience, CancellationToken cancellationToken);

    /// <summary>Configured audiences that have no usable token now (empty = ready).</summary>
    IReadOnlyList<string> AudiencesWithoutUsableToken();

    /// <summary>The metrics label for an audience: itself when configured, else "other".</summary>
    string MetricLabel(string audience);
}
