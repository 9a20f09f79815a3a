namespace TokenInjector.Bench.Measuring;

/// <summary>
/// Request latencies in a log-linear histogram (as HdrHistogram does): exact below 128 ns, then 64 linear buckets per
/// power of two, so any recorded value is known within 1/64 (1.6 %). Recording is an array increment, cheap enough
/// that one per request does not weigh on the load generator. Not thread-safe: one per worker, merged at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int ExactLimit = SubBuckets * 2;

    // Up to 2^40 ns (18 minutes): far past any request.
    private const int Magnitudes = 40 - SubBucketBits;

    private readonly long[] _counts = new long[ExactLimit + (Magnitudes * SubBuckets)];

    public long Count { get; private set; }

    public void Record(long nanoseconds)
    {
        _counts[IndexOf(Math.Clamp(nanoseconds, 0, MaxValue))]++;
        Count++;
    }

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
    }

    /// <summary>
    /// The smallest recorded value (as the top of its bucket) that at least <paramref name="percentile"/> % of the
    /// values do not exceed; zero when nothing was recorded.
    /// </summary>
    public TimeSpan Percentile(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percentile);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        if (Count == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return TimeSpan.FromTicks(HighestValueOf(i) / 100);
            }
        }

        throw new InvalidOperationException("the counts do not add up to Count");
    }

    private static long MaxValue => HighestValueOf((ExactLimit + (Magnitudes * SubBuckets)) - 1);

    private static int IndexOf(long value)
    {
        if (value < ExactLimit)
        {
            return (int)value;
        }

        // value >> shift falls in [64, 128): the top 7 bits of the value, of which the first is always 1.
        var shift = 63 - (int)long.LeadingZeroCount(value) - SubBucketBits;
        return ExactLimit + ((shift - 1) * SubBuckets) + (int)((value >> shift) - SubBuckets);
    }

    private static long HighestValueOf(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }

        var shift = ((index - ExactLimit) / SubBuckets) + 1;
        var top = ((index - ExactLimit) % SubBuckets) + SubBuckets;
        return ((top + 1L) << shift) - 1;
    }
}
