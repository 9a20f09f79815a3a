namespace TokenInjector.Tokens;

/// <summary>
/// The form of an ID token the metadata server mints: its identity endpoint's <c>format</c> and <c>licenses</c>
/// parameters. <c>licenses</c> only means something with <c>format=full</c>, so the standard form has one variant.
/// </summary>
internal enum TokenFormat
{
    /// <summary><c>format=standard</c> (the metadata server's default): no <c>email</c> claim.</summary>
    Standard,

    /// <summary><c>format=full</c>: with the <c>email</c> and <c>email_verified</c> claims.</summary>
    Full,

    /// <summary><c>format=full&amp;licenses=TRUE</c>: full, with the instance's licence codes where there are any.</summary>
    FullWithLicenses,
}

/// <summary>
/// What one cache entry holds a token for: an audience and the form of its token. Two forms of one audience are two
/// tokens (their claims differ), so each has its own entry, fetch and refresh.
/// </summary>
internal readonly record struct TokenKey(string Audience, TokenFormat Format)
{
    /// <summary>
    /// The form the socket, the routes, the egress port and token files serve: <c>format=full</c>, which the sidecar has
    /// always asked for (Google.Apis.Auth's default) and which Google's client libraries ask the metadata server for too,
    /// so their requests through the metadata endpoint find the configured audiences' tokens.
    /// </summary>
    public static TokenKey Default(string audience) => new(audience, TokenFormat.Full);
}
