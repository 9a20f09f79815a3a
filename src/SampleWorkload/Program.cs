using System.Collections;
using System.Runtime.InteropServices;
using TokenInjector.SampleWorkload.Client;
using TokenInjector.SampleWorkload.Server;

// sample-workload server | client: the echo service deployed on Cloud Run, and the app that calls it through the sidecar.
switch (args.FirstOrDefault())
{
    case "server":
        return await ServerCommand.RunAsync(args[1..], Console.Error);
    case "client":
        using (var stop = new CancellationTokenSource())
        {
            // The first Ctrl-C / SIGTERM ends the run with a summary; a second one kills the process as usual.
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = !stop.IsCancellationRequested;
                stop.Cancel();
            }

            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
                .ToDictionary(entry => (string)entry.Key, entry => (string?)entry.Value ?? string.Empty, StringComparer.Ordinal);
            return await ClientCommand.RunAsync(args[1..], environment, Console.Out, Console.Error, TimeProvider.System, stop.Token);
        }

    default:
        Console.Error.WriteLine("usage: sample-workload server | client [options]   (client --help for its options)");
        return args.FirstOrDefault() is "--help" or "-h" ? 0 : 2;
}
