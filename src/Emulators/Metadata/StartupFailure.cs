namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// How the emulator misbehaves during its startup window. On a fresh GKE node the metadata server can lag behind
/// the pod: depending on timing, clients see a refused connection or an error status, and must retry either way.
/// </summary>
internal enum StartupFailure
{
    /// <summary>Nothing listens yet: connections are refused.</summary>
    Refuse,

    /// <summary>Listening, but every metadata request answers 404.</summary>
    NotFound,

    /// <summary>Listening, but every metadata request answers 503.</summary>
    Unavailable,
}
