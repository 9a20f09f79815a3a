namespace TokenInjector.Webhook;

/// <summary>
/// What the admission decisions need of the webhook's settings: its own namespace (never injected) and the sidecar it
/// adds. The rest (TLS, the Kubernetes client, the listener) belongs to the server around the handler.
/// </summary>
internal sealed record AdmissionOptions(string? WebhookNamespace, SidecarDefaults Sidecar);
