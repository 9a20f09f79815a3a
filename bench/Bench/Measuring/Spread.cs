namespace TokenInjector.Bench.Measuring;

/// <summary>
/// One figure over the rounds of a run: the median of the per-round values, and the smallest and largest of them.
/// With three to five rounds the range is what can be read; an interquartile range would be two of the same values.
/// </summary>
internal readonly record struct Spread(double Median, double Min, double Max, int Count)
{
    public static Spread Of(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Spread(double.NaN, double.NaN, double.NaN, 0);
        }

        var median = (sorted[(sorted.Length - 1) / 2] + sorted[sorted.Length / 2]) / 2;
        return new Spread(median, sorted[0], sorted[^1], sorted.Length);
    }

    /// <summary>The range as a share of the median (0.08 for a median of 1.00 between 0.96 and 1.04).</summary>
    public double RelativeRange => Median == 0 ? double.NaN : (Max - Min) / Math.Abs(Median);
}
