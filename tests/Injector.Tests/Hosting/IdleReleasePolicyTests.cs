using TokenInjector.Hosting;

namespace TokenInjector.Tests.Hosting;

public sealed class IdleReleasePolicyTests
{
    private const long MiB = 1024 * 1024;

    public static TheoryData<string, long, long, bool> Intervals => new()
    {
        // name, allocated during the interval, committed above the last release, release?
        { "quiet after growth", 64 * 1024, 3 * MiB, true },
        { "quiet, growth exactly the threshold", 0, IdleReleasePolicy.GrowthBytes, true },
        { "quiet, growth below the threshold", 0, IdleReleasePolicy.GrowthBytes - 1, false },
        { "quiet, nothing grew", 0, 0, false },
        { "busy after growth", 40 * MiB, 20 * MiB, false },
        { "allocation just at the quiet bound", IdleReleasePolicy.QuietAllocationBytes, 20 * MiB, false },
        { "committed below the last release", 0, -3 * MiB, false },
    };

    [Theory]
    [MemberData(nameof(Intervals))]
    public void ShouldRelease_OneInterval(string name, long allocated, long grown, bool expected)
    {
        var start = new MemorySample(AllocatedBytes: 100 * MiB, CommittedBytes: 10 * MiB);
        var policy = new IdleReleasePolicy(start);

        Assert.True(expected == policy.ShouldRelease(new MemorySample(start.AllocatedBytes + allocated, start.CommittedBytes + grown)), name);
    }

    [Fact]
    public void ABusySpell_IsReleasedOnce_AtTheFirstQuietInterval_ThenNotAgainWhileIdle()
    {
        var policy = new IdleReleasePolicy(new MemorySample(0, 10 * MiB));
        var allocated = 0L;
        bool Interval(long allocating, long committed) => policy.ShouldRelease(new MemorySample(allocated += allocating, committed));

        Assert.False(Interval(500 * MiB, 40 * MiB));
        Assert.False(Interval(300 * MiB, 45 * MiB));
        Assert.True(Interval(10 * 1024, 45 * MiB));
        policy.Released(new MemorySample(allocated, 12 * MiB));

        // Idle again: probes allocate a little, nothing has grown since the release.
        Assert.False(Interval(10 * 1024, 12 * MiB));
        Assert.False(Interval(10 * 1024, 12 * MiB));

        // The next spell is released in its turn.
        Assert.False(Interval(200 * MiB, 30 * MiB));
        Assert.True(Interval(0, 30 * MiB));
    }

    [Fact]
    public void AllocationIsCountedFromTheRelease_NotFromBeforeIt()
    {
        var policy = new IdleReleasePolicy(new MemorySample(0, 10 * MiB));
        Assert.False(policy.ShouldRelease(new MemorySample(100 * MiB, 30 * MiB)));

        // The release itself and the spell before it must not make the next interval look busy.
        policy.Released(new MemorySample(100 * MiB, 12 * MiB));
        Assert.True(policy.ShouldRelease(new MemorySample(100 * MiB + 1024, 16 * MiB)));
    }
}
