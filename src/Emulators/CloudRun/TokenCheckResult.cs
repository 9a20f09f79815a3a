namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// The outcome of checking one bearer token: either a rejection reason, or the verified token's
/// signature-stripped form (what the container gets), a hash of its payload (what the stats count) and who it names.
/// </summary>
internal sealed record TokenCheckResult(string? RejectionReason, string? RedactedToken, string? PayloadHash, TokenCaller? Caller = null)
{
    public bool IsValid => RejectionReason is null;

    public static TokenCheckResult Reject(string reason) => new(reason, null, null);
}

/// <summary>Who an accepted token says called, and for what: its <c>aud</c>, <c>sub</c> and <c>email</c> (null in the standard format).</summary>
internal sealed record TokenCaller(string Audience, string Subject, string? Email);
