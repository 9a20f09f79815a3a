using TokenInjector.Emulators.CloudRun;
using TokenInjector.Emulators.Metadata;

// Local emulators of the GKE metadata server and of Cloud Run's front end (docs/ARCHITECTURE.md "The emulators").
// Only dispatch lives here; each emulator owns its arguments.
return args switch
{
    ["metadata", .. var rest] => await MetadataCommand.RunAsync(rest),
    ["cloud-run", .. var rest] => await CloudRunCommand.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: emulators metadata|cloud-run [options]");
    return 2;
}
