namespace TokenInjector.Webhook;

/// <summary>The webhook's log events (event ids 2000–2099).</summary>
internal static partial class WebhookLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Webhook listening on https://{Endpoint}")]
    public static partial void Listening(this ILogger logger, string endpoint);

    public static void CertificateReloaded(this ILogger logger, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.CertificateReloaded(certificate.Subject, certificate.Thumbprint, certificate.NotAfter.ToUniversalTime());
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Serving certificate now {Subject} ({Thumbprint}), valid until {NotAfter:O}")]
    private static partial void CertificateReloaded(this ILogger logger, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Serving certificate {File} could not be reloaded, still serving the previous one: {Reason}")]
    public static partial void CertificateReloadFailed(this ILogger logger, string file, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Injected sidecar into pod {Namespace}/{Pod} ({Operations} patch operations)")]
    public static partial void PodMutated(this ILogger logger, string @namespace, string pod, int operations);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Denied pod {Namespace}/{Pod}: {Reason}")]
    public static partial void PodDenied(this ILogger logger, string @namespace, string pod, string reason);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Left pod {Namespace}/{Pod} unchanged: {Reason}")]
    public static partial void PodSkipped(this ILogger logger, string @namespace, string pod, string reason);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Rejected a bad admission request: {Reason}")]
    public static partial void BadRequest(this ILogger logger, string reason);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Service account {Namespace}/{Name} could not be looked up; admitting without a Workload Identity check: {Reason}")]
    public static partial void ServiceAccountLookupFailed(this ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "Pod {Namespace}/{Pod} came back from other webhooks with its sidecar altered; the patch {Restored}")]
    public static partial void SidecarRestored(this ILogger logger, string @namespace, string pod, string restored);

    [LoggerMessage(EventId = 2030, Level = LogLevel.Information, Message = "Denied {Kind} {Namespace}/{Name}, whose pods would be denied: {Reason}")]
    public static partial void TemplateDenied(this ILogger logger, string kind, string @namespace, string name, string reason);

    [LoggerMessage(EventId = 2031, Level = LogLevel.Debug, Message = "Allowed {Kind} {Namespace}/{Name} after checking its pod template ({Warnings} warnings)")]
    public static partial void TemplateAllowed(this ILogger logger, string kind, string @namespace, string name, int warnings);

    [LoggerMessage(EventId = 2032, Level = LogLevel.Debug, Message = "Allowed {Kind} {Namespace}/{Name} unchecked: {Reason}")]
    public static partial void TemplateSkipped(this ILogger logger, string kind, string @namespace, string name, string reason);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "No Kubernetes API access ({Reason}); service accounts are not checked for Workload Identity")]
    public static partial void ServiceAccountChecksDisabled(this ILogger logger, string reason);

    [LoggerMessage(EventId = 2040, Level = LogLevel.Information, Message = "Created Secret {Namespace}/{Name} with a new CA and serving certificate")]
    public static partial void SecretCreated(this ILogger logger, string @namespace, string name);

    [LoggerMessage(EventId = 2041, Level = LogLevel.Information, Message = "Secret {Namespace}/{Name} was created by another replica first; serving its certificate")]
    public static partial void SecretCreatedByAnother(this ILogger logger, string @namespace, string name);

    [LoggerMessage(EventId = 2042, Level = LogLevel.Information, Message = "Wrote the CA bundle into the caBundle of {Kind} {Name} ({Entries} entries)")]
    public static partial void CaBundleWritten(this ILogger logger, string kind, string name, int entries);

    [LoggerMessage(EventId = 2043, Level = LogLevel.Information, Message = "Certificate in Secret {Namespace}/{Name}: {Step}")]
    public static partial void RotationStep(this ILogger logger, string @namespace, string name, string step);

    [LoggerMessage(EventId = 2044, Level = LogLevel.Debug, Message = "{Kind} {Name} changed since it was read (another replica); reading it again next round")]
    public static partial void UpdateConflict(this ILogger logger, string kind, string name);

    [LoggerMessage(EventId = 2045, Level = LogLevel.Warning, Message = "Webhook not ready: {Reason}")]
    public static partial void CertificateKeeperNotReady(this ILogger logger, string reason);

    [LoggerMessage(EventId = 2046, Level = LogLevel.Information, Message = "Webhook ready: serving the certificate of Secret {Namespace}/{Name}, trusted by the webhook configurations' caBundle")]
    public static partial void CertificateKeeperReady(this ILogger logger, string @namespace, string name);
}
