using TokenInjector.Bench.Reporting;
using TokenInjector.Bench.Running;

namespace TokenInjector.Tests.Bench.Running;

public sealed class CostVariantsTests
{
    [Fact]
    public void Parse_Threads_PutsTheDefaultFirst_AllUnpinned_ThenNamedVariants()
    {
        var options = CostVariants.Parse(["1500", "8000", "--threads", "--rounds", "5", "inline:DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1"], out var errors);

        Assert.Empty(errors);
        Assert.NotNull(options);
        Assert.Equal(
            ["default, unpinned", "max-workers-1, unpinned", "max-workers-2, unpinned", "processors-1, unpinned", "processors-2, unpinned", "inline"],
            options.Variants.Select(variant => variant.Name));
        Assert.All(options.Variants.Take(5), variant => Assert.False(variant.Pinned));
        Assert.Equal("1", options.Variants[1].Environment!["DOTNET_ThreadPool_ForceMaxWorkerThreads"]);
        Assert.Equal("1", options.Variants[3].Environment!["DOTNET_PROCESSOR_COUNT"]);
        Assert.Equal((5, 1500, 8000, 2000), (options.Settings.Rounds, options.Settings.RpcsOne, options.Settings.RpcsMany, options.Settings.RpcWarmup));
    }

    [Fact]
    public void Parse_Unpinned_MeasuresEachNamedVariantPinnedAndNot()
    {
        var options = CostVariants.Parse(["10", "20", "--unpinned", "shipped"], out var errors);

        Assert.Empty(errors);
        Assert.Equal(["shipped", "shipped, unpinned"], options!.Variants.Select(variant => variant.Name));
        Assert.Equal(3, options.Settings.Rounds);
    }

    [Fact]
    public void Parse_BadInput_GivesOneLinePerError()
    {
        var options = CostVariants.Parse(["many", "0", "--rounds", "0", "--fast", "x:NOVALUE", "x"], out var errors);

        Assert.Null(options);
        Assert.Equal(
        [
            "RPCS_ONE 'many' is not a whole number of 1 or more",
            "RPCS_MANY '0' is not a whole number of 1 or more",
            "--rounds '0' is not a whole number of 1 or more",
            "'--fast' is not an option of --cost (--rounds N, --unpinned, --threads, --attach 'COMMAND', NAME[:VAR=VALUE,...])",
            "variant 'x:NOVALUE': 'NOVALUE' is not VAR=VALUE",
            "variant 'x' is named twice",
        ],
            errors);
    }

    [Fact]
    public void Parse_NoVariant_IsAnError()
    {
        Assert.Null(CostVariants.Parse(["10", "20", "--rounds", "4"], out var errors));
        Assert.Equal(["no sidecar variant to measure: name one (NAME[:VAR=VALUE,...]) or give --threads"], errors);
    }

    [Fact]
    public void RunSettings_Parse_QuickKeepsItsShortQuietPeriodAndTakesRounds()
    {
        var quick = BenchSettings.Parse(["--rounds", "4", "--quick"], out var errors);

        Assert.Empty(errors);
        Assert.Equal((4, true, TimeSpan.FromSeconds(5)), (quick!.Rounds, quick.IsQuick, quick.QuietPeriod));
        Assert.Equal((3, TimeSpan.FromMinutes(1)), (BenchSettings.Parse([], out _)!.Rounds, new BenchSettings().QuietPeriod));
        Assert.Null(BenchSettings.Parse(["--rounds", "three", "--slow"], out errors));
        Assert.Equal(["--rounds 'three' is not a whole number of 1 or more", "'--slow' is not an option of run (--quick, --rounds N)"], errors);
    }

    [Theory]
    [InlineData(2, "0", "1", "1", "0", true)]
    [InlineData(3, "0", "1", "2", "2", false)]
    [InlineData(8, "0", "1", "2", "2", false)]
    public void CoreLayout_KeepsTheDirectClientsTlsOffTheUpstreamsCore(int cores, string measured, string load, string upstream, string directUpstream, bool separate)
    {
        var layout = CoreLayout.For(cores);

        Assert.Equal((measured, load, upstream, directUpstream, separate), (layout.Measured, layout.Load, layout.Upstream, layout.DirectUpstream, layout.SeparateDirectUpstream));
        Assert.NotEqual(layout.Load, layout.DirectUpstream);
        Assert.Equal($"0-{cores - 1}", layout.All);
    }
}
