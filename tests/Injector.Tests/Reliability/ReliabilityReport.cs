using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Writes the reliability suite's results into docs/RELIABILITY.md (or CI's copy of it), one table row per scenario,
/// when the suite runs through <c>scripts/reliability</c> (which names the file in <see cref="ReportVariable"/>). Rows from earlier runs
/// stay until their scenario runs again, so the fast suite and the soak can run separately and share one report.
/// In a plain test run nothing is written; the scenarios still assert.
/// </summary>
internal static partial class ReliabilityReport
{
    public const string ReportVariable = "TOKEN_INJECTOR_RELIABILITY_REPORT";

    private const string Preamble = """
        # Reliability

        Written by the reliability suite (`scripts/reliability`; `scripts/reliability --soak` adds the 10-minute soak).
        Each row is one scenario: what it measured and whether it met its bar. Rows keep the date of the run that
        produced them. Tokens are never printed: leak checks report counts only.
        """;

    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>Adds or replaces the scenario's row; a no-op unless the suite runs through scripts/reliability.</summary>
    public static async Task RecordAsync(ScenarioResult result)
    {
        var path = Environment.GetEnvironmentVariable(ReportVariable);
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        await Gate.WaitAsync();
        try
        {
            var rows = File.Exists(path) ? Parse(await File.ReadAllTextAsync(path)) : [];
            var row = Row.From(result, DateTime.UtcNow);
            rows[(result.Section, row.Scenario)] = row;
            // The first run on a fresh checkout has no docs/ yet.
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, Render(rows));
        }
        finally
        {
            Gate.Release();
        }
    }

    private static Dictionary<(ReliabilitySection, string), Row> Parse(string markdown)
    {
        var rows = new Dictionary<(ReliabilitySection, string), Row>();
        ReliabilitySection? section = null;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                section = Enum.TryParse<ReliabilitySection>(line[3..].Trim(), out var parsed) ? parsed : null;
                continue;
            }

            var cells = TableRow().Match(line);
            if (section is { } current && cells.Success && cells.Groups["result"].Value is "pass" or "FAIL")
            {
                var row = new Row(
                    cells.Groups["scenario"].Value.Trim(),
                    cells.Groups["figures"].Value.Trim(),
                    cells.Groups["result"].Value,
                    cells.Groups["note"].Value.Trim(),
                    cells.Groups["date"].Value.Trim());
                rows[(current, row.Scenario)] = row;
            }
        }

        return rows;
    }

    private static string Render(Dictionary<(ReliabilitySection Section, string Scenario), Row> rows)
    {
        var text = new StringBuilder(Preamble).Append('\n');
        var failed = rows.Values.Count(r => r.Result == "FAIL");
        text.Append(CultureInfo.InvariantCulture, $"**{rows.Count} scenarios: {rows.Count - failed} pass, {failed} fail.**\n");
        foreach (var section in Enum.GetValues<ReliabilitySection>())
        {
            var inSection = rows.Where(r => r.Key.Section == section).OrderBy(r => r.Key.Scenario, StringComparer.Ordinal).ToList();
            if (inSection.Count == 0)
            {
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"\n## {section}\n\n| Scenario | Figures | Result | Note | Run |\n|---|---|---|---|---|\n");
            foreach (var (_, row) in inSection)
            {
                text.Append(CultureInfo.InvariantCulture, $"| {row.Scenario} | {row.Figures} | {row.Result} | {row.Note} | {row.Date} |\n");
            }
        }

        return text.ToString();
    }

    [GeneratedRegex(@"^\| (?<scenario>[^|]+) \| (?<figures>[^|]*) \| (?<result>[^|]+) \| (?<note>[^|]*) \| (?<date>[^|]*) \|$")]
    private static partial Regex TableRow();

    private sealed record Row(string Scenario, string Figures, string Result, string Note, string Date)
    {
        public static Row From(ScenarioResult result, DateTime now) => new(
            Cell(result.Scenario),
            Cell(string.Join("; ", result.Figures)),
            result.Passed ? "pass" : "FAIL",
            Cell(result.Note),
            now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));

        // A pipe or a line break would end the table cell early.
        private static string Cell(string value) => value.Replace('|', '/').ReplaceLineEndings(" ");
    }
}
