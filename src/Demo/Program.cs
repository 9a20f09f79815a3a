using System.Runtime.InteropServices;
using TokenInjector.Demo;
using TokenInjector.Demo.Processes;

// scripts/demo: the sidecar on this machine, against the built-in emulators. Only wiring lives here.
var options = DemoOptions.Parse(args, out var errors);
if (options is null)
{
    foreach (var error in errors)
    {
        Console.Error.WriteLine($"demo: {error}");
    }

    (errors.Count == 0 ? Console.Out : Console.Error).WriteLine(DemoOptions.Usage);
    return errors.Count == 0 ? 0 : 2;
}

var programs = BuildOutputs.Locate(AppContext.BaseDirectory);
if (programs.Missing().ToList() is { Count: > 0 } missing)
{
    Console.Error.WriteLine($"demo: not built: {string.Join(", ", missing)} (scripts/demo builds them)");
    return 2;
}

using var stop = new CancellationTokenSource();

// Ctrl-C, SIGTERM or a closed terminal end the run early, but always through the orderly shutdown: every child
// stopped and the work directory removed.
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);

Console.Out.WriteLine("token-injector demo: a gRPC client with no auth code calls a private Cloud Run service through the sidecar while its ID token rotates");
return await new DemoRunner(options, programs, Console.Out).RunAsync(stop.Token);
