using System.Runtime.InteropServices;
using TokenInjector.Bench.Measuring;
using TokenInjector.Bench.Reporting;
using TokenInjector.Bench.Running;
using TokenInjector.Bench.Upstream;

// bench run PROGRAMS_DIR OUTPUT_MD [--quick] [--rounds N] | bench cost PROGRAMS_DIR ... | bench compare A.md B.md
// | bench upstream PORT CERT KEY. scripts/bench builds and starts it; only wiring here.
const string Usage = """
    usage: bench run PROGRAMS_DIR OUTPUT_MD [--quick] [--rounds N]   (scripts/bench runs it)
           bench cost PROGRAMS_DIR RPCS_ONE RPCS_MANY [--rounds N] [--unpinned] [--threads] [--attach 'COMMAND {pid} {name}'] [NAME[:VAR=VALUE,...]]...
           bench compare A.md B.md [--tolerance PERCENT]
    """;
switch (args)
{
    case ["upstream", .. var rest]:
        return await UpstreamCommand.RunAsync(rest, Console.Out);
    case ["run", var programsDirectory, var outputFile, .. var rest]:
        return BenchSettings.Parse(rest, out var runErrors) is { } settings
            ? await RunAsync(programsDirectory, baseline: true, settings, async (runner, token) =>
            {
                var machine = MachineFacts.Collect(Directory.GetCurrentDirectory());
                var markdown = BenchReport.ToMarkdown(await runner.RunAsync(machine, token));
                await File.WriteAllTextAsync(outputFile, markdown, token);
                Console.Out.WriteLine();
                Console.Out.Write(markdown);
            })
            : Refuse(runErrors);
    case ["cost", var programsDirectory, .. var rest]:
        return CostVariants.Parse(rest, out var costErrors) is { } cost
            ? await RunAsync(programsDirectory, baseline: false, cost.Settings,
                async (runner, token) => Console.Out.Write(CostVariants.ToTable(await runner.RunCostAsync(cost.Variants, cost.Attach, token))))
            : Refuse(costErrors);
    case ["compare", .. var rest]:
        return PageComparison.Run(rest, Console.Out, Console.Error);
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}

static int Refuse(IEnumerable<string> errors)
{
    foreach (var error in errors)
    {
        Console.Error.WriteLine("bench: " + error);
    }

    return 2;
}

static async Task<int> RunAsync(string programsDirectory, bool baseline, BenchSettings settings, Func<BenchRunner, CancellationToken, Task> run)
{
    var programs = BenchPrograms.In(programsDirectory);
    if (programs.Missing(baseline).ToList() is { Count: > 0 } missing)
    {
        Console.Error.WriteLine($"bench: not published: {string.Join(", ", missing)} (scripts/bench publishes them)");
        return 2;
    }

    using var stop = new CancellationTokenSource();

    // Ctrl-C or SIGTERM end the run through the orderly shutdown: every child stopped, the work directory removed.
    void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        stop.Cancel();
    }

    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    ProcessStats.ClockTicksPerSecond = MachineFacts.ClockTicksPerSecond();
    try
    {
        await run(new BenchRunner(programs, settings, Console.Out), stop.Token);
        return 0;
    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
        Console.Error.WriteLine("bench: interrupted; every process it started is stopped");
        return 130;
    }
}
