namespace TokenInjector.Tests.Support;

/// <summary>Tests that change the process-wide GCE_METADATA_HOST run alone, never beside another test.</summary>
[CollectionDefinition(nameof(GceMetadataHostSerialGroup), DisableParallelization = true)]
public sealed class GceMetadataHostSerialGroup;

/// <summary>
/// Points Google.Apis.Auth at a metadata emulator the way real deployments do, through the process-wide
/// GCE_METADATA_HOST, for the test's duration. Only for tests in <see cref="GceMetadataHostSerialGroup"/>.
/// </summary>
internal sealed class GceMetadataHost : IDisposable
{
    private const string Name = "GCE_METADATA_HOST";
    private readonly string? _previous = Environment.GetEnvironmentVariable(Name);

    public GceMetadataHost(string hostAndPort) => Environment.SetEnvironmentVariable(Name, hostAndPort);

    public void Dispose() => Environment.SetEnvironmentVariable(Name, _previous);
}
