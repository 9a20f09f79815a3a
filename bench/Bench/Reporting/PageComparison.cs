using System.Globalization;
using System.Text;

namespace TokenInjector.Bench.Reporting;

/// <summary>
/// <c>bench compare A.md B.md [--tolerance PERCENT]</c>: the figures of two pages written by <c>scripts/bench</c>, side
/// by side with their difference, each ratio and memory figure judged against the tolerance (B's median as a share of
/// A's), so "two runs agree within 10 %" is checked by a program rather than by eye.
/// </summary>
internal static class PageComparison
{
    public const double DefaultTolerancePercent = 10;

    /// <summary>
    /// <c>A.md B.md [--tolerance PERCENT]</c>: prints the comparison; 0 when every judged figure agrees, 1 when one
    /// does not (or is in one page only), 2 for bad arguments or a page without the figures table.
    /// </summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var errors = new List<string>();
        var tolerance = DefaultTolerancePercent;
        switch (args)
        {
            case [_, _]:
                break;
            case [_, _, "--tolerance", var text]:
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out tolerance) || tolerance <= 0)
                {
                    errors.Add($"--tolerance '{text}' is not a percentage above 0");
                }

                break;
            default:
                errors.Add("compare takes two pages, then --tolerance PERCENT if wanted");
                break;
        }

        errors.AddRange(args.Take(2).Where(page => !File.Exists(page)).Select(page => $"no such page: {page}"));
        if (errors.Count == 0)
        {
            try
            {
                var (table, agree) = Compare(File.ReadAllText(args[0]), File.ReadAllText(args[1]), tolerance);
                output.Write($"A: {args[0]}\nB: {args[1]}\n\n{table}");
                return agree ? 0 : 1;
            }
            catch (InvalidDataException ex)
            {
                errors.Add(ex.Message);
            }
        }

        foreach (var line in errors)
        {
            error.WriteLine("bench compare: " + line);
        }

        return 2;
    }

    /// <summary>The comparison table, and whether every judged figure of both pages agrees within the tolerance.</summary>
    public static (string Table, bool Agree) Compare(string first, string second, double tolerancePercent)
    {
        var a = FigureTable.Read(first, out var errorA);
        var b = FigureTable.Read(second, out var errorB);
        if (errorA is not null || errorB is not null)
        {
            throw new InvalidDataException(string.Join("; ", new[] { errorA is null ? null : "A: " + errorA, errorB is null ? null : "B: " + errorB }.OfType<string>()));
        }

        var byName = b.ToDictionary(figure => figure.Name, StringComparer.Ordinal);
        var text = new StringBuilder();
        text.Append("| figure | unit | A | B | B − A | B ÷ A | |\n|---|---|---|---|---|---|---|\n");
        var (judged, within, missing) = (0, 0, 0);
        foreach (var (name, unit, medianA) in a)
        {
            if (!byName.Remove(name, out var other))
            {
                text.Append(CultureInfo.InvariantCulture, $"| {name} | {Figure.Symbol(unit)} | {FigureTable.Number(medianA, unit)} | | | | only in A |\n");
                missing++;
                continue;
            }

            var medianB = other.Median;
            var difference = FigureTable.Number(medianB - medianA, unit);
            if (unit == FigureUnit.Microseconds || medianA == 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"| {name} | {Figure.Symbol(unit)} | {FigureTable.Number(medianA, unit)} | {FigureTable.Number(medianB, unit)} | {difference} | | not judged |\n");
                continue;
            }

            var share = (medianB / medianA) - 1;
            var agrees = Math.Abs(share) * 100 <= tolerancePercent;
            judged++;
            within += agrees ? 1 : 0;
            text.Append(CultureInfo.InvariantCulture,
                $"| {name} | {Figure.Symbol(unit)} | {FigureTable.Number(medianA, unit)} | {FigureTable.Number(medianB, unit)} | {difference} | {share * 100:+0.0;-0.0;0.0} % | {(agrees ? "within" : "**OUTSIDE**")} |\n");
        }

        foreach (var (name, unit, medianB) in byName.Values)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {name} | {Figure.Symbol(unit)} | | {FigureTable.Number(medianB, unit)} | | | only in B |\n");
            missing++;
        }

        text.Append(CultureInfo.InvariantCulture,
            $"\n{within} of {judged} judged figures within ±{tolerancePercent:0.#} %{(missing > 0 ? $"; {missing} in one page only" : "")}; latency differences (µs) are shown, not judged.\n");
        return (text.ToString(), within == judged && missing == 0);
    }
}
