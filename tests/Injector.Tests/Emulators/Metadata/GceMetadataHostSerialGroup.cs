namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>Tests that change the process-wide GCE_METADATA_HOST run alone, never beside another test.</summary>
[CollectionDefinition(nameof(GceMetadataHostSerialGroup), DisableParallelization = true)]
public sealed class GceMetadataHostSerialGroup;
