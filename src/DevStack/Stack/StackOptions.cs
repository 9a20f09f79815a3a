using TokenInjector.Emulators.Metadata;

namespace TokenInjector.DevStack.Stack;

/// <summary>
/// What a <see cref="LocalStack"/> pretends to be, however it is hosted: the Cloud Run service it fronts, the service
/// account whose tokens the metadata emulator issues, how long they live, and who may call the service.
/// </summary>
internal sealed record StackOptions
{
    /// <summary>The service's host name, as Cloud Run would give it; its URL is the audience its tokens carry.</summary>
    public string ServiceHost { get; init; } = "echo-e2e-abc123-uc.a.run.app";

    public string ServiceUrl => "https://" + ServiceHost;

    public string ServiceAccount { get; init; } = new MetadataEmulatorOptions().ServiceAccountEmail;

    /// <summary>Lifetime of the ID tokens (real ones live an hour; shorter ones show rotation).</summary>
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Emails the Cloud Run emulator lets in (roles/run.invoker); empty: every holder of a valid token.</summary>
    public IReadOnlyList<string> Invokers { get; init; } = [];

    /// <summary>How the work directory (certificates, sockets) is named, under /tmp.</summary>
    public string DirectoryPrefix { get; init; } = "ti-";
}
