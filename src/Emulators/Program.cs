using TokenInjector.Emulators.Metadata;

// Local emulators of the GKE metadata server and of Cloud Run's front end (see EMULATORS.md).
// Only dispatch lives here; each emulator owns its arguments.
return args switch
{
    ["metadata", .. var rest] => await MetadataCommand.RunAsync(rest),

    // cloud-run: wire TokenInjector.Emulators.CloudRun.CloudRunCommand.RunAsync(rest) here once it exists.
    ["cloud-run", ..] => NotBuilt("cloud-run"),

    _ => Usage(),
};

static int NotBuilt(string emulator)
{
    Console.Error.WriteLine($"{emulator}: not built yet");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: emulators metadata|cloud-run [options]");
    return 2;
}
