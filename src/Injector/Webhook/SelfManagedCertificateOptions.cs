namespace TokenInjector.Webhook;

/// <summary>
/// The certificate the webhook keeps itself: the Secret it lives in, the names it is for, the webhook configurations
/// whose caBundle trusts it, and its lifetimes.
/// </summary>
internal sealed record SelfManagedCertificateOptions
{
    /// <summary>The Secret, in <see cref="Namespace"/>, the webhook's own namespace.</summary>
    public required string SecretName { get; init; }

    public required string Namespace { get; init; }

    /// <summary>The Service's DNS names, each a subject alternative name of the serving certificate.</summary>
    public required IReadOnlyList<string> DnsNames { get; init; }

    public string? MutatingWebhookConfiguration { get; init; }

    public string? ValidatingWebhookConfiguration { get; init; }

    public TimeSpan CaLifetime { get; init; } = TimeSpan.FromDays(365);

    public TimeSpan ServingCertificateLifetime { get; init; } = TimeSpan.FromDays(90);

    /// <summary>A certificate with less than this left is replaced (the CA by a rotation, the serving certificate at once).</summary>
    public TimeSpan RenewBefore { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// The least time between two steps of a CA rotation: long enough for every replica to read the Secret again (and
    /// the API server to see the new caBundle) before the next step relies on it.
    /// </summary>
    public TimeSpan RotationOverlap { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the Secret and the configurations are read (GET; polling needs no watch permission).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);
}
