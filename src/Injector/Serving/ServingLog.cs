using System.Net;

namespace TokenInjector.Serving;

/// <summary>The log events of the token API, the admin listener and token files (event ids 200–399).</summary>
internal static partial class ServingLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Token API listening on unix:{Path}")]
    public static partial void TokenApiListening(this ILogger logger, string path);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Admin listener (/metrics /healthz /readyz) on {Endpoint}")]
    public static partial void AdminListening(this ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Could not write token file {Path}: {Problem}")]
    public static partial void TokenFileWriteFailed(this ILogger logger, string path, string problem);
}
