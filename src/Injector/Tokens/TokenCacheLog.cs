namespace TokenInjector.Tokens;

/// <summary>The token cache's log events (event ids 100–199). Audiences are logged; tokens never are.</summary>
internal static partial class TokenCacheLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "New token for {Audience}, expires {ExpiresAt:O}, refresh from {RefreshAt:O}")]
    public static partial void TokenRenewed(this ILogger logger, string audience, DateTimeOffset expiresAt, DateTimeOffset refreshAt);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "The token source returned the current token again for {Audience} (the GKE metadata server caches tokens); retrying at {RetryAt:O}")]
    public static partial void TokenNotYetRenewed(this ILogger logger, string audience, DateTimeOffset retryAt);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Token fetch for {Audience} failed ({Reason}): {Problem}")]
    public static partial void FetchFailed(this ILogger logger, string audience, string reason, string problem);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Dynamic audience {Audience} went unused and is no longer refreshed")]
    public static partial void DynamicAudienceIdle(this ILogger logger, string audience);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Dynamic audience {Audience} dropped to make room (at most {Limit} are cached)")]
    public static partial void DynamicAudienceEvicted(this ILogger logger, string audience, int limit);

    [LoggerMessage(EventId = 105, Level = LogLevel.Critical, Message = "A token refresh loop failed; stopping the sidecar")]
    public static partial void RefreshLoopCrashed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Waiting for the token source to answer for {Audience} ({Reason}): {Problem}")]
    public static partial void WaitingForTokenSource(this ILogger logger, string audience, string reason, string problem);
}
