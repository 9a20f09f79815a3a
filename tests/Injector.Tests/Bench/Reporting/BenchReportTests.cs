using TokenInjector.Bench.Reporting;

namespace TokenInjector.Tests.Bench.Reporting;

public sealed class BenchReportTests
{
    [Fact]
    public void CpuRatio_IsTheMedianOfEachRoundsRatio_NotTheRatioOfMedians()
    {
        // Per round 2.0, 1.5 and 2.6: the median is 2.0; the ratio of the medians would be 260 / 100 = 2.6.
        var page = BenchReport.ToMarkdown(SyntheticRuns.Results(sidecarCpu: [200, 300, 260], haproxyCpu: [100, 200, 100], directP50: [400, 400, 400]));

        var figure = Figure(page, $"proxy CPU per RPC ÷ haproxy's, {SyntheticRuns.Main}, 32 streams");

        Assert.Equal((FigureUnit.Ratio, 2.0), (figure.Unit, figure.Median));
        Assert.Contains("2.00× (1.50–2.60) of haproxy", page, StringComparison.Ordinal);
    }

    [Fact]
    public void AddedP50_IsAgainstTheDirectCallsOfTheSameRound()
    {
        // The proxies' p50 is 500 µs in every round; the direct calls' 400, 450 and 480 µs.
        var page = BenchReport.ToMarkdown(SyntheticRuns.Results(sidecarCpu: [200, 200, 200], haproxyCpu: [100, 100, 100], directP50: [400, 450, 480]));

        var figure = Figure(page, $"added p50 over direct, {SyntheticRuns.Main}, 1 stream");

        Assert.Equal(FigureUnit.Microseconds, figure.Unit);
        Assert.InRange(figure.Median, 45, 55);
    }

    [Fact]
    public void Page_HasEveryRoundsValue_AndTheMemoryAfterAQuietMinute()
    {
        var page = BenchReport.ToMarkdown(SyntheticRuns.Results(sidecarCpu: [200, 300, 260], haproxyCpu: [100, 200, 100], directP50: [400, 400, 400]));

        Assert.Contains($"| proxy CPU per RPC ÷ haproxy's, {SyntheticRuns.Main}, 32 streams | × | 2.000 | 1.500 | 2.600 | 55 % | 2.000 | 1.500 | 2.600 |", page, StringComparison.Ordinal);
        // Quiet RSS of 22, 23 and 24 MiB against an idle 20 MiB: a median 3 MiB above idle, within the 4 MiB goal.
        Assert.Contains($"| RSS after a quiet minute ({SyntheticRuns.Main}) | MiB | 23.0 | 22.0 | 24.0 |", page, StringComparison.Ordinal);
        Assert.Contains($"and then a quiet minute ({SyntheticRuns.Main}) | 23.0 MiB (22.0–24.0) | its idle RSS 20.0 MiB (20.0–20.0) | 1.15× (1.10–1.20) | ≤ 4 MiB above idle | met |", page, StringComparison.Ordinal);
        Assert.DoesNotContain("--quick", page, StringComparison.Ordinal);
    }

    [Fact]
    public void QuickPage_SaysSo_AndNamesItsShorterQuietPeriod()
    {
        var settings = TokenInjector.Bench.Reporting.BenchSettings.Quick with { Rounds = 2 };
        var page = BenchReport.ToMarkdown(SyntheticRuns.Results(sidecarCpu: [200, 300], haproxyCpu: [100, 200], directP50: [400, 400], settings));

        Assert.Contains("**A `--quick` run**", page, StringComparison.Ordinal);
        Assert.Contains($"RSS after 5 quiet seconds ({SyntheticRuns.Main})", page, StringComparison.Ordinal);
        Assert.DoesNotContain("quiet minute", page, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryTableRow_HasAsManyCellsAsItsHeader()
    {
        var page = BenchReport.ToMarkdown(SyntheticRuns.Results(sidecarCpu: [200, 300, 260], haproxyCpu: [100, 200, 100], directP50: [400, 400, 400]));
        var header = 0;
        foreach (var line in page.Split('\n'))
        {
            if (!line.StartsWith('|'))
            {
                header = 0;
                continue;
            }

            var cells = line.Count(c => c == '|') - 1;
            if (header == 0)
            {
                header = cells;
            }

            Assert.True(cells == header, $"{cells} cells where the header has {header}: {line}");
        }
    }

    private static (string Name, FigureUnit Unit, double Median) Figure(string page, string name)
    {
        var figures = FigureTable.Read(page, out var error);
        Assert.Null(error);
        return Assert.Single(figures, figure => figure.Name == name);
    }
}
