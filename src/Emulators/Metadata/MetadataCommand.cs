using System.Runtime.InteropServices;

namespace TokenInjector.Emulators.Metadata;

/// <summary><c>emulators metadata ...</c>: runs a <see cref="MetadataEmulator"/> until SIGTERM or Ctrl-C.</summary>
internal static class MetadataCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var commandLine = MetadataCommandLine.Parse(args);
        if (commandLine.Errors.Count > 0)
        {
            foreach (var error in commandLine.Errors)
            {
                await Console.Error.WriteLineAsync($"metadata: {error}");
            }

            await Console.Error.WriteLineAsync(MetadataCommandLine.Usage);
            return 2;
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Cancel the default termination so the emulator closes its port cleanly and the process exits 0,
        // which is what Kubernetes and the tests expect after SIGTERM.
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        MetadataEmulator emulator;
        try
        {
            emulator = await MetadataEmulator.StartAsync(commandLine.Options);
        }
        catch (IOException ex)
        {
            // Typically the port is taken: one line, not a stack trace.
            await Console.Error.WriteLineAsync($"metadata: cannot listen on {commandLine.Options.ListenAddress}: {ex.Message}");
            return 1;
        }

        await using var running = emulator;
        emulator.Faults.Latency = commandLine.Latency;
        emulator.Faults.Status = commandLine.InjectStatus;

        // With --fail-first in refuse mode the port only opens after the window; announce it when it does.
        await Task.WhenAny(emulator.WhenListening, stop.Task);
        if (emulator.WhenListening.IsFaulted)
        {
            await Console.Error.WriteLineAsync($"metadata: cannot listen on {emulator.HostAndPort}: {emulator.WhenListening.Exception.GetBaseException().Message}");
            return 1;
        }

        if (emulator.WhenListening.IsCompletedSuccessfully)
        {
            Console.Out.WriteLine($"metadata emulator listening on {emulator.BaseAddress.AbsoluteUri.TrimEnd('/')} (jwks {emulator.JwksUri.AbsoluteUri})");
            await Console.Out.FlushAsync();
        }

        await stop.Task;
        return 0;
    }
}
