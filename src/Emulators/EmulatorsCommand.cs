using System.CommandLine;
using TokenInjector.DevCommandLine;
using TokenInjector.Emulators.CloudRun;
using TokenInjector.Emulators.Metadata;

namespace TokenInjector.Emulators;

/// <summary><c>emulators metadata|cloud-run [options]</c>: the two emulators (docs/ARCHITECTURE.md "The emulators"), one executable.</summary>
internal static class EmulatorsCommand
{
    public static Command Create() => DevCommand.Root(
        "emulators", "Local emulators of the GKE metadata server and of Cloud Run's front end (docs/ARCHITECTURE.md, The emulators).",
        MetadataCommand.Create(), CloudRunCommand.Create());
}
