namespace TokenInjector.Tokens;

/// <summary>The sidecar's tokens: what the socket API, the proxy and readiness read.</summary>
internal interface ITokenCache
{
    /// <summary>
    /// A usable token for the audience. Never waits on the metadata server while a usable token is cached; when
    /// none is, joins the one fetch in flight (or starts one unless a retry is pending) and waits at most for it.
    /// </summary>
    ValueTask<TokenLookup> GetTokenAsync(string audience, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="GetTokenAsync(string, CancellationToken)"/>, for the token of one form (<see cref="TokenKey"/>).
    /// A form of a configured audience other than the configured one is kept as a dynamic entry, allowed even when
    /// dynamic audiences are off (the audience is configured); <paramref name="overflow"/> says what a new dynamic
    /// entry does when the dynamic set is full.
    /// </summary>
    ValueTask<TokenLookup> GetTokenAsync(TokenKey key, DynamicAudienceOverflow overflow, CancellationToken cancellationToken);

    /// <summary>
    /// An upstream refused <paramref name="token"/> (HTTP 401). If it is still the current token, one early refresh
    /// is started; further reports are ignored for a while, so a service that refuses every token (a wrong audience)
    /// cannot drive a refresh loop.
    /// </summary>
    void ReportRejected(string audience, IdToken token);

    /// <summary>Configured audiences that have no usable token now (empty = ready).</summary>
    IReadOnlyList<string> AudiencesWithoutUsableToken();

    /// <summary>The metrics label for an audience: itself when configured, else "other".</summary>
    string MetricLabel(string audience);

    /// <summary>The metrics label for a token key: its audience when it is a configured entry, else "other".</summary>
    string MetricLabel(TokenKey key);
}
