namespace TokenInjector.SampleWorkload;

/// <summary>Limits shared by the sample server and client.</summary>
internal static class SampleLimits
{
    /// <summary>
    /// Largest gRPC message either side sends or accepts: 64 MB. gRPC's default is 4 MB received, which would reject
    /// the 10 MB messages used to check that large messages pass through the sidecar unbuffered. Cloud Run itself
    /// has no per-message limit on HTTP/2 end-to-end streams, so the service is the one that sets it.
    /// </summary>
    public const int MaxMessageSize = 64 * 1024 * 1024;

    /// <summary>Name of the response trailer every call ends with (<c>&lt;method&gt;:&lt;outcome&gt;</c>).</summary>
    public const string TrailerName = "x-echo-trailer";
}
