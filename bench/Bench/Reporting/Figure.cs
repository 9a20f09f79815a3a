using TokenInjector.Bench.Measuring;

namespace TokenInjector.Bench.Reporting;

/// <summary>What a figure counts, which says how two runs' values of it are compared.</summary>
internal enum FigureUnit
{
    /// <summary>A ratio of two figures of one round (×): two runs should agree on it within a share of it.</summary>
    Ratio,

    /// <summary>Resident memory (MiB): compared as a share, like a ratio.</summary>
    Mebibytes,

    /// <summary>
    /// A difference of two latencies (µs), such as the p50 a proxy adds over the direct calls: it can be near zero or
    /// negative, so a share of it means nothing; two runs' values are shown apart, not judged.
    /// </summary>
    Microseconds,
}

/// <summary>One figure of a run, its value in each round (in round order).</summary>
internal sealed record Figure(string Name, FigureUnit Unit, IReadOnlyList<double> Rounds)
{
    public Spread Spread => Spread.Of(Rounds);

    /// <summary>The unit as the figures table writes it.</summary>
    public static string Symbol(FigureUnit unit) => unit switch
    {
        FigureUnit.Ratio => "×",
        FigureUnit.Mebibytes => "MiB",
        FigureUnit.Microseconds => "µs",
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "no such unit"),
    };

    public static FigureUnit? UnitOf(string symbol) => symbol switch
    {
        "×" => FigureUnit.Ratio,
        "MiB" => FigureUnit.Mebibytes,
        "µs" => FigureUnit.Microseconds,
        _ => null,
    };
}
