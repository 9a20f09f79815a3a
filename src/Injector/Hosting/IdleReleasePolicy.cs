namespace TokenInjector.Hosting;

/// <summary>The GC's running total of bytes allocated and the bytes it has committed, read together.</summary>
internal readonly record struct MemorySample(long AllocatedBytes, long CommittedBytes);

/// <summary>
/// When a quiet sidecar's memory is worth a full collection: the interval just ended allocated less than
/// <see cref="QuietAllocationBytes"/> (probes and scrapes, no calls), and the GC holds at least
/// <see cref="GrowthBytes"/> more than it did after the last release. The second rule makes it once per busy spell:
/// an idle sidecar is not collected again and again.
/// </summary>
internal sealed class IdleReleasePolicy(MemorySample afterLastRelease)
{
    /// <summary>Allocation in one interval below which the sidecar counts as quiet: far above health probes and metric scrapes.</summary>
    public const long QuietAllocationBytes = 1024 * 1024;

    /// <summary>Committed growth since the last release that makes a collection worth its pause.</summary>
    public const long GrowthBytes = 2 * 1024 * 1024;

    private long _baselineCommitted = afterLastRelease.CommittedBytes;
    private long _lastAllocated = afterLastRelease.AllocatedBytes;

    public bool ShouldRelease(MemorySample now)
    {
        var allocated = now.AllocatedBytes - _lastAllocated;
        _lastAllocated = now.AllocatedBytes;
        return allocated < QuietAllocationBytes && now.CommittedBytes - _baselineCommitted >= GrowthBytes;
    }

    public void Released(MemorySample after) => (_baselineCommitted, _lastAllocated) = (after.CommittedBytes, after.AllocatedBytes);
}
