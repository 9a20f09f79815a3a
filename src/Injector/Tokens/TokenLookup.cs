namespace TokenInjector.Tokens;

/// <summary>What happened when a token was asked for.</summary>
internal enum TokenLookupStatus
{
    /// <summary>A usable token is in <see cref="TokenLookup.Token"/>.</summary>
    Ok,

    /// <summary>The audience is not configured and dynamic audiences are off.</summary>
    NotAllowed,

    /// <summary>No usable token can be had now; try again after <see cref="TokenLookup.RetryAfter"/>.</summary>
    Unavailable,

    /// <summary>
    /// The audience would be a new dynamic one, the dynamic set is full, and the caller asked for no eviction
    /// (<see cref="DynamicAudienceOverflow.Refuse"/>); try again after <see cref="TokenLookup.RetryAfter"/>.
    /// </summary>
    LimitReached,
}

/// <summary>What a request for a new dynamic audience does when the dynamic set is full.</summary>
internal enum DynamicAudienceOverflow
{
    /// <summary>Drop the least recently used dynamic audience to make room (the socket and the egress port).</summary>
    EvictLeastRecentlyUsed,

    /// <summary>
    /// Refuse with <see cref="TokenLookupStatus.LimitReached"/> (the metadata endpoint): Google's libraries back off on
    /// a 429, while evicting would let a client cycling through audiences turn every request into a token fetch.
    /// </summary>
    Refuse,
}

/// <summary>The answer to a token request.</summary>
internal readonly record struct TokenLookup(TokenLookupStatus Status, IdToken? Token, TimeSpan RetryAfter, string? Problem)
{
    public static TokenLookup Found(IdToken token) => new(TokenLookupStatus.Ok, token, TimeSpan.Zero, null);

    public static TokenLookup NotAllowed() => new(TokenLookupStatus.NotAllowed, null, TimeSpan.Zero, null);

    public static TokenLookup Unavailable(TimeSpan retryAfter, string? problem) =>
        new(TokenLookupStatus.Unavailable, null, retryAfter, problem);

    public static TokenLookup LimitReached(TimeSpan retryAfter, string problem) =>
        new(TokenLookupStatus.LimitReached, null, retryAfter, problem);
}
