using System.Net;

namespace TokenInjector.MetadataApi;

/// <summary>The metadata endpoint's log events (event ids 600–699). Audiences are logged; tokens never are.</summary>
internal static partial class MetadataLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Metadata endpoint {Address}:{Port}: ID tokens from the cache, other paths {Behind}")]
    public static partial void MetadataListening(this ILogger logger, IPAddress address, int port, string behind);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "Metadata endpoint: no usable token for {Audience} ({Format}); answered 503")]
    public static partial void NoToken(this ILogger logger, string audience, string format);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "Metadata endpoint: the metadata server at {Server} failed ({Error}): {Reason}")]
    public static partial void ForwardFailed(this ILogger logger, string server, string error, string reason);

    // Debug: the app gets the reason in the answer and metrics count refusals; a client retrying in a loop must not
    // flood the pod's log.
    [LoggerMessage(EventId = 603, Level = LogLevel.Debug, Message = "Metadata endpoint: refused with {Status}: {Reason}")]
    public static partial void Refused(this ILogger logger, int status, string reason);

    // Debug too: a client that keeps asking would flood the log; token_injector_metadata_endpoint_requests_total{code="429"} counts them.
    [LoggerMessage(EventId = 604, Level = LogLevel.Debug, Message = "Metadata endpoint: {Limit} learned audiences are cached; {Audience} answered 429")]
    public static partial void LimitReached(this ILogger logger, string audience, int limit);
}
