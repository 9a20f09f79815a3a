using System.Runtime.InteropServices;
using TokenInjector.Bench.Measuring;
using TokenInjector.Bench.Reporting;
using TokenInjector.Bench.Running;
using TokenInjector.Bench.Upstream;

// bench run PROGRAMS_DIR OUTPUT_MD | bench upstream PORT CERT KEY. scripts/bench builds and starts it; only wiring here.
switch (args)
{
    case ["upstream", .. var rest]:
        return await UpstreamCommand.RunAsync(rest, Console.Out);
    case ["run", var programsDirectory, var outputFile]:
        var programs = BenchPrograms.In(programsDirectory);
        if (programs.Missing().ToList() is { Count: > 0 } missing)
        {
            Console.Error.WriteLine($"bench: not published: {string.Join(", ", missing)} (scripts/bench publishes them)");
            return 2;
        }

        using (var stop = new CancellationTokenSource())
        {
            // Ctrl-C or SIGTERM end the run through the orderly shutdown: every child stopped, the work directory removed.
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }

            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            ProcessStats.ClockTicksPerSecond = MachineFacts.ClockTicksPerSecond();
            var machine = MachineFacts.Collect(Directory.GetCurrentDirectory());
            BenchResults results;
            try
            {
                results = await new BenchRunner(programs, new BenchSettings(), Console.Out).RunAsync(machine, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Console.Error.WriteLine("bench: interrupted; every process it started is stopped");
                return 130;
            }

            var markdown = BenchReport.ToMarkdown(results);
            await File.WriteAllTextAsync(outputFile, markdown);
            Console.Out.WriteLine();
            Console.Out.Write(markdown);
            return 0;
        }

    default:
        Console.Error.WriteLine("usage: bench run PROGRAMS_DIR OUTPUT_MD   (scripts/bench runs it)");
        return 2;
}
