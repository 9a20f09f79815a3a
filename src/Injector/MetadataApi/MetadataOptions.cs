using System.Net;

namespace TokenInjector.MetadataApi;

/// <summary>
/// The metadata endpoint: where it listens, and what stands behind it. On GKE (<see cref="MetadataServer"/> set) every
/// path but the identity endpoint is forwarded there; off GKE (<c>--token-source adc</c>, <see cref="MetadataServer"/>
/// null) the few paths libraries need to start are answered from <see cref="Local"/>.
/// </summary>
internal sealed record MetadataOptions(
    int Port,
    IPAddress ListenAddress,
    string? MetadataServer,
    LocalMetadata Local,
    TimeSpan FetchTimeout);

/// <summary>What the endpoint knows itself under <c>--token-source adc</c>: the credentials' account and project, where the file tells.</summary>
internal sealed record LocalMetadata(string? ServiceAccountEmail, string? ProjectId);
