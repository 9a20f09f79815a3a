namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// The outcome of checking one bearer token: either a rejection reason, or the verified token's
/// signature-stripped form (what the container gets) and a hash of its payload (what the stats count).
/// </summary>
internal sealed record TokenCheckResult(string? RejectionReason, string? RedactedToken, string? PayloadHash)
{
    public bool IsValid => RejectionReason is null;

    public static TokenCheckResult Reject(string reason) => new(reason, null, null);
}
