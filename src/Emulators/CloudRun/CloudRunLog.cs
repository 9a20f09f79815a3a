using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// The emulator's log events, with fixed ids. None takes a token: a token string must never reach a log,
/// only the reason it was turned away.
/// </summary>
internal static partial class CloudRunLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Rejected {Method} {Path} with {StatusCode}: {Reason}")]
    public static partial void Rejected(ILogger logger, string method, PathString path, int statusCode, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Forwarding {Method} {Path} for {Authority}")]
    public static partial void Forwarding(ILogger logger, string method, PathString path, string authority);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Fetched {KeyCount} key(s) from the JWKS")]
    public static partial void JwksFetched(ILogger logger, int keyCount);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Fetching the JWKS from {JwksUri} failed")]
    public static partial void JwksFetchFailed(ILogger logger, Uri jwksUri, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Not refetching the JWKS for unknown key {Kid}: too many fetches in the last minute")]
    public static partial void JwksRefetchRateLimited(ILogger logger, string kid);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Forwarding {Method} {Path} to the container failed: {Error}")]
    public static partial void ForwardFailed(ILogger logger, string method, PathString path, ForwarderError error, Exception? exception);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "{Method} {Path} hit the request timeout of {Timeout}")]
    public static partial void TimedOut(ILogger logger, string method, PathString path, TimeSpan timeout);
}
