using System.CommandLine;
using TokenInjector.DevCommandLine;

namespace TokenInjector.Emulators.Metadata;

/// <summary><c>emulators metadata ...</c>: runs a <see cref="MetadataEmulator"/> until asked to stop (SIGTERM, Ctrl-C).</summary>
internal static class MetadataCommand
{
    public static Command Create()
    {
        var commandLine = new MetadataCommandLine();
        DevCommand.SetAction(commandLine.Command, commandLine.Bind, RunAsync);
        return commandLine.Command;
    }

    private static async Task<int> RunAsync(MetadataSettings settings, DevInvocation invocation)
    {
        MetadataEmulator emulator;
        try
        {
            emulator = await MetadataEmulator.StartAsync(settings.Options);
        }
        catch (IOException ex)
        {
            // Typically the port is taken: one line, not a stack trace.
            await invocation.Error.WriteLineAsync($"metadata: cannot listen on {settings.Options.ListenAddress}: {ex.Message}");
            return 1;
        }

        await using var running = emulator;
        emulator.Faults.Latency = settings.Latency;
        emulator.Faults.Status = settings.InjectStatus;

        // With --fail-first in refuse mode the port only opens after the window; announce it when it does.
        var stopped = invocation.WhenStopped();
        await Task.WhenAny(emulator.WhenListening, stopped);
        if (emulator.WhenListening.IsFaulted)
        {
            await invocation.Error.WriteLineAsync($"metadata: cannot listen on {emulator.HostAndPort}: {emulator.WhenListening.Exception.GetBaseException().Message}");
            return 1;
        }

        if (emulator.WhenListening.IsCompletedSuccessfully)
        {
            await invocation.Output.WriteLineAsync($"metadata emulator listening on {emulator.BaseAddress.AbsoluteUri.TrimEnd('/')} (jwks {emulator.JwksUri.AbsoluteUri})");
            await invocation.Output.FlushAsync(CancellationToken.None);
        }

        // Asked to stop: the emulator closes its port cleanly and the process exits 0, which is what Kubernetes and
        // the tests expect after SIGTERM.
        await stopped;
        return 0;
    }
}
