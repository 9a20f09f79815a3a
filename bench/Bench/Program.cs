using System.Globalization;
using System.Runtime.InteropServices;
using TokenInjector.Bench.Measuring;
using TokenInjector.Bench.Reporting;
using TokenInjector.Bench.Running;
using TokenInjector.Bench.Upstream;

// bench run PROGRAMS_DIR OUTPUT_MD [--quick] | bench cost PROGRAMS_DIR ... | bench upstream PORT CERT KEY. scripts/bench
// builds and starts it; only wiring here.
switch (args)
{
    case ["upstream", .. var rest]:
        return await UpstreamCommand.RunAsync(rest, Console.Out);
    case ["run", var programsDirectory, var outputFile, .. var quick] when quick is [] or ["--quick"]:
        return await RunAsync(programsDirectory, baseline: true, quick is [] ? new BenchSettings() : BenchSettings.Quick, async (runner, token) =>
        {
            var machine = MachineFacts.Collect(Directory.GetCurrentDirectory());
            var markdown = BenchReport.ToMarkdown(await runner.RunAsync(machine, token));
            await File.WriteAllTextAsync(outputFile, markdown, token);
            Console.Out.WriteLine();
            Console.Out.Write(markdown);
        });
    case ["cost", var programsDirectory, var one, var many, .. var rest]
        when int.TryParse(one, CultureInfo.InvariantCulture, out var rpcsOne) && int.TryParse(many, CultureInfo.InvariantCulture, out var rpcsMany)
        && CostVariants.TryParse(rest, out var variants, out var attach):
        return await RunAsync(programsDirectory, baseline: false, new BenchSettings { RpcWarmup = Math.Max(rpcsMany / 4, 1), RpcsOne = rpcsOne, RpcsMany = rpcsMany },
            async (runner, token) => Console.Out.Write(CostVariants.ToTable(await runner.RunCostAsync(variants, attach, token))));
    default:
        Console.Error.WriteLine("""
            usage: bench run PROGRAMS_DIR OUTPUT_MD [--quick]   (scripts/bench runs it)
                   bench cost PROGRAMS_DIR RPCS_ONE RPCS_MANY [--unpinned] [--attach 'COMMAND {pid} {name}'] NAME[:VAR=VALUE,...]...
            """);
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
