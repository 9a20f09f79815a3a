namespace TokenInjector.Tokens;

/// <summary>The token cache's log events. Audiences are logged; tokens never are.</summary>
internal sealed partial class TokenCacheLog(ILogger<TokenCache> logger)
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "New token for {Audience}, expires {ExpiresAt:O}, refresh from {RefreshAt:O}")]
    public partial void TokenRenewed(string audience, DateTimeOffset expiresAt, DateTimeOffset refreshAt);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "The token source returned the current token again for {Audience} (the GKE metadata server caches tokens); retrying at {RetryAt:O}")]
    public partial void TokenNotYetRenewed(string audience, DateTimeOffset retryAt);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Token fetch for {Audience} failed ({Reason}): {Problem}")]
    public partial void FetchFailed(string audience, string reason, string problem);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Waiting for the token source to answer for {Audience} ({Reason}): {Problem}")]
    public partial void WaitingForTokenSource(string audience, string reason, string problem);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Dynamic audience {Audience} went unused and is no longer refreshed")]
    public partial void DynamicAudienceIdle(string audience);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Dynamic audience {Audience} dropped to make room (at most {Limit} are cached)")]
    public partial void DynamicAudienceEvicted(string audience, int limit);

    [LoggerMessage(EventId = 105, Level = LogLevel.Critical, Message = "A token refresh loop failed; stopping the sidecar")]
    public partial void RefreshLoopCrashed(Exception exception);
}
