namespace TokenInjector.Webhook;

/// <summary>The webhook's log messages, with fixed event ids (2000–2099) so that alerts can key on them.</summary>
internal static partial class WebhookLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Webhook listening on https://{Endpoint}")]
    public static partial void Listening(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Serving certificate reloaded: {Subject} ({Thumbprint}), valid until {NotAfter:O}")]
    public static partial void CertificateReloaded(ILogger logger, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Serving certificate {File} could not be reloaded, still serving the previous one: {Reason}")]
    public static partial void CertificateReloadFailed(ILogger logger, string file, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Injected sidecar into pod {Namespace}/{Pod} ({Operations} patch operations)")]
    public static partial void PodMutated(ILogger logger, string @namespace, string pod, int operations);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Denied pod {Namespace}/{Pod}: {Reason}")]
    public static partial void PodDenied(ILogger logger, string @namespace, string pod, string reason);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Left pod {Namespace}/{Pod} unchanged: {Reason}")]
    public static partial void PodSkipped(ILogger logger, string @namespace, string pod, string reason);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Rejected a bad admission request: {Reason}")]
    public static partial void BadRequest(ILogger logger, string reason);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Service account {Namespace}/{Name} could not be looked up; admitting without a Workload Identity check: {Reason}")]
    public static partial void ServiceAccountLookupFailed(ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "No Kubernetes API access ({Reason}); service accounts are not checked for Workload Identity")]
    public static partial void ServiceAccountChecksDisabled(ILogger logger, string reason);
}
