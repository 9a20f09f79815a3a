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
}

/// <summary>The answer to a token request.</summary>
internal readonly record struct TokenLookup(TokenLookupStatus Status, IdToken? Token, TimeSpan RetryAfter, string? Problem)
{
    public static TokenLookup Found(IdToken token) => new(TokenLookupStatus.Ok, token, TimeSpan.Zero, null);

    public static TokenLookup NotAllowed() => new(TokenLookupStatus.NotAllowed, null, TimeSpan.Zero, null);

    public static TokenLookup Unavailable(TimeSpan retryAfter, string? problem) =>
        new(TokenLookupStatus.Unavailable, null, retryAfter, problem);
}
