using TokenInjector.Bench.Measuring;

namespace TokenInjector.Tests.Bench.Measuring;

public sealed class LatencyHistogramTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(127L)]
    [InlineData(128L)]
    [InlineData(999L)]
    [InlineData(150_000L)]
    [InlineData(1_234_567L)]
    [InlineData(987_654_321_000L)]
    public void Percentile_OfOneValue_IsThatValueWithinOneSixtyFourth(long nanoseconds)
    {
        var histogram = new LatencyHistogram();
        histogram.Record(nanoseconds);

        var reported = histogram.Percentile(50).Ticks * 100;

        // Reported as the top of its bucket, in whole 100 ns ticks.
        Assert.InRange(reported, (nanoseconds / 100) * 100, nanoseconds + (nanoseconds / 64) + 100);
    }

    [Fact]
    public void Percentiles_OfOneToTenThousandMicroseconds_AreTheRanksValues()
    {
        var histogram = new LatencyHistogram();
        for (var micros = 10_000; micros >= 1; micros--)
        {
            histogram.Record(micros * 1_000L);
        }

        Assert.Equal(10_000, histogram.Count);
        Assert.InRange(histogram.Percentile(50).TotalMicroseconds, 5_000, 5_000 * (1 + (1.0 / 64)));
        Assert.InRange(histogram.Percentile(99).TotalMicroseconds, 9_900, 9_900 * (1 + (1.0 / 64)));
        Assert.InRange(histogram.Percentile(100).TotalMicroseconds, 10_000, 10_000 * (1 + (1.0 / 64)));
        Assert.InRange(histogram.Percentile(0).TotalMicroseconds, 1, 1 * (1 + (1.0 / 64)));
    }

    [Fact]
    public void Add_MergesWorkersSoTheTailOfOneShowsInTheWhole()
    {
        var fast = new LatencyHistogram();
        var slow = new LatencyHistogram();
        for (var i = 0; i < 98; i++)
        {
            fast.Record(100_000);
        }

        slow.Record(50_000_000);
        slow.Record(50_000_000);

        fast.Add(slow);

        Assert.Equal(100, fast.Count);
        Assert.InRange(fast.Percentile(98).TotalMicroseconds, 100, 102);
        Assert.InRange(fast.Percentile(99).TotalMilliseconds, 50, 51);
    }

    [Fact]
    public void Percentile_OfNothing_IsZero() => Assert.Equal(TimeSpan.Zero, new LatencyHistogram().Percentile(99));
}
