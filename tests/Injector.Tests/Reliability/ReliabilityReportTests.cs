
namespace TokenInjector.Tests.Reliability;

/// <summary>The report writer keeps rows from earlier runs and replaces a scenario's row when it runs again.</summary>
[Collection(nameof(ReliabilityReportVariableGroup))]
public sealed class ReliabilityReportTests
{
    [Fact]
    public async Task RecordAsync_KeepsOtherRowsAndReplacesTheScenariosOwn()
    {
        using var directory = new TempDirectory();
        var report = directory.File("RELIABILITY.md");
        using (new ReportVariable(report))
        {
            await ReliabilityReport.RecordAsync(new ScenarioResult(ReliabilitySection.Soak, "mixed load", ["failed calls: 0"], Passed: true));
            await ReliabilityReport.RecordAsync(new ScenarioResult(ReliabilitySection.Faults, "429 | storm", ["failed calls: 3"], Passed: false) { Note = "line\nbreak" });
            await ReliabilityReport.RecordAsync(new ScenarioResult(ReliabilitySection.Faults, "429 | storm", ["failed calls: 0", "recovered in: 1 s"], Passed: true));
        }

        var text = await File.ReadAllTextAsync(report);
        Assert.Contains("**2 scenarios: 2 pass, 0 fail.**", text, StringComparison.Ordinal);
        Assert.Contains("| mixed load | failed calls: 0 | pass |", text, StringComparison.Ordinal);
        Assert.Contains("| 429 / storm | failed calls: 0; recovered in: 1 s | pass |", text, StringComparison.Ordinal);
        Assert.DoesNotContain("failed calls: 3", text, StringComparison.Ordinal);
        Assert.True(text.IndexOf("## Faults", StringComparison.Ordinal) < text.IndexOf("## Soak", StringComparison.Ordinal));
    }

    private sealed class ReportVariable : IDisposable
    {
        private readonly string? _previous = Environment.GetEnvironmentVariable(ReliabilityReport.ReportVariable);

        public ReportVariable(string? path) => Environment.SetEnvironmentVariable(ReliabilityReport.ReportVariable, path);

        public void Dispose() => Environment.SetEnvironmentVariable(ReliabilityReport.ReportVariable, _previous);
    }
}

/// <summary>
/// Tests that change the report variable run alone: the reliability scenarios read it, and running through
/// scripts/reliability they must keep writing to the real report.
/// </summary>
[CollectionDefinition(nameof(ReliabilityReportVariableGroup), DisableParallelization = true)]
public sealed class ReliabilityReportVariableGroup;
