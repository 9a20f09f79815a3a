namespace TokenInjector.Tokens;

/// <summary>
/// A token fetch failed. <see cref="Reason"/> is a short fixed label (for metrics); the message says what happened
/// in words an operator can act on and never contains a token.
/// </summary>
internal sealed class TokenFetchException(string reason, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public const string Timeout = "timeout";
    public const string Unreachable = "unreachable";
    public const string RateLimited = "rate_limited";
    public const string ServerError = "server_error";
    public const string Rejected = "rejected";
    public const string InvalidResponse = "invalid_response";
    public const string WrongAudience = "wrong_audience";
    public const string SubjectToken = "subject_token";
    public const string StsRejected = "sts_rejected";
    public const string ImpersonationDenied = "impersonation_denied";

    public string Reason { get; } = reason;
}
