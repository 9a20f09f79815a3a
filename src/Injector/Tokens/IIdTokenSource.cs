namespace TokenInjector.Tokens;

/// <summary>Fetches a new ID token for an audience, in a given form, from wherever tokens come from (the seam tests replace).</summary>
internal interface IIdTokenSource
{
    /// <exception cref="TokenFetchException">The fetch failed; the message is safe to log.</exception>
    Task<IdToken> FetchAsync(TokenKey key, CancellationToken cancellationToken);
}
