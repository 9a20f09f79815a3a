namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// Why a request was turned away; the keys of <see cref="CloudRunStats.RejectedByReason"/> and of the stats JSON.
/// Stable strings, because tests and scripts compare them.
/// </summary>
internal static class RejectionReasons
{
    /// <summary>Neither <c>Authorization</c> nor <c>X-Serverless-Authorization</c> (in IAP mode <c>Proxy-Authorization</c>) was sent.</summary>
    public const string Missing = "missing";

    /// <summary>Not <c>Bearer &lt;token&gt;</c>, or a token that is not a well-formed JWT.</summary>
    public const string Malformed = "malformed";

    /// <summary>An OAuth access token (<c>ya29.…</c>) where an ID token is required: a classic client mistake.</summary>
    public const string AccessToken = "access_token";

    /// <summary>Not RS256.</summary>
    public const string UnsupportedAlgorithm = "unsupported_algorithm";

    /// <summary>The <c>kid</c> is not in the JWKS, even after a refetch.</summary>
    public const string UnknownKey = "unknown_key";

    /// <summary>The signature does not verify.</summary>
    public const string BadSignature = "bad_signature";

    /// <summary><c>iss</c> is not <c>https://accounts.google.com</c>.</summary>
    public const string WrongIssuer = "wrong_issuer";

    /// <summary><c>exp</c> (plus the allowed skew) is in the past, or missing.</summary>
    public const string Expired = "expired";

    /// <summary><c>aud</c> is neither the service URL nor a custom audience.</summary>
    public const string WrongAudience = "wrong_audience";

    /// <summary>In IAP mode, a valid token for IAP's audience without the <c>email</c> claim (not <c>format=full</c>).</summary>
    public const string MissingEmail = "missing_email";

    /// <summary>A valid token whose <c>email</c> is not an invoker.</summary>
    public const string NotInvoker = "not_invoker";
}
