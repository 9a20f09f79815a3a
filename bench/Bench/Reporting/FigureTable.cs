using System.Globalization;
using System.Text;

namespace TokenInjector.Bench.Reporting;

/// <summary>
/// The page's "Figures, round by round" table: every compared figure with its unit, median, range and per-round
/// values, written by <see cref="BenchReport"/> and read back by <see cref="PageComparison"/>, so two generated pages
/// are compared on the numbers the page shows and nothing else has to be kept beside them.
/// </summary>
internal static class FigureTable
{
    public const string Heading = "## Figures, round by round";
    private const string HeaderStart = "| figure | unit | median |";

    public static void Write(StringBuilder text, IReadOnlyList<Figure> figures, int rounds)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(figures);
        text.Append(HeaderStart).Append(" min | max | range |");
        for (var round = 1; round <= rounds; round++)
        {
            text.Append(CultureInfo.InvariantCulture, $" round {round} |");
        }

        text.Append('\n').Append("|---|---|---|---|---|---|").Append(string.Concat(Enumerable.Repeat("---|", rounds))).Append('\n');
        foreach (var figure in figures)
        {
            var spread = figure.Spread;
            text.Append(CultureInfo.InvariantCulture,
                $"| {figure.Name} | {Figure.Symbol(figure.Unit)} | {Number(spread.Median, figure.Unit)} | {Number(spread.Min, figure.Unit)} | {Number(spread.Max, figure.Unit)} | ");
            text.Append(figure.Unit == FigureUnit.Microseconds || double.IsNaN(spread.RelativeRange)
                ? "-"
                : string.Create(CultureInfo.InvariantCulture, $"{spread.RelativeRange * 100:0} %"));
            text.Append(" |");
            foreach (var value in figure.Rounds)
            {
                text.Append(' ').Append(Number(value, figure.Unit)).Append(" |");
            }

            text.Append('\n');
        }
    }

    /// <summary>
    /// The figures of a page's table (their medians as single-value rounds are not needed: the median is what two
    /// runs are compared on), or an error when the page has no such table.
    /// </summary>
    public static IReadOnlyList<(string Name, FigureUnit Unit, double Median)> Read(string page, out string? error)
    {
        ArgumentNullException.ThrowIfNull(page);
        var lines = page.Split('\n');
        var start = Array.FindIndex(lines, line => line.TrimEnd() == Heading);
        error = null;
        if (start < 0)
        {
            error = $"no \"{Heading[3..]}\" table (a page written by scripts/bench with rounds)";
            return [];
        }

        var figures = new List<(string, FigureUnit, double)>();
        foreach (var line in lines.Skip(start + 1).SkipWhile(line => !line.StartsWith(HeaderStart, StringComparison.Ordinal)).Skip(2))
        {
            if (!line.StartsWith('|'))
            {
                break;
            }

            var cells = line.Trim().Trim('|').Split('|').Select(cell => cell.Trim()).ToArray();
            if (cells.Length < 3 || Figure.UnitOf(cells[1]) is not { } unit
                || !double.TryParse(cells[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var median))
            {
                error = $"a row that is not a figure: {line.Trim()}";
                return [];
            }

            figures.Add((cells[0], unit, median));
        }

        if (figures.Count == 0)
        {
            error = $"the \"{Heading[3..]}\" table has no rows";
        }

        return figures;
    }

    public static string Number(double value, FigureUnit unit) => double.IsNaN(value) ? "-" : unit switch
    {
        FigureUnit.Ratio => value.ToString("0.000", CultureInfo.InvariantCulture),
        FigureUnit.Mebibytes => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };
}
