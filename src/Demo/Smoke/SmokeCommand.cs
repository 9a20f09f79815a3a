using System.CommandLine;
using TokenInjector.DevCommandLine;
using TokenInjector.DevStack.Stack;

namespace TokenInjector.Demo.Smoke;

/// <summary>
/// <c>demo smoke --injector PATH --pod FILE</c>: <see cref="SmokeRunner"/> against the given <c>injector</c> (the
/// published NativeAOT executable, from <c>scripts/aot-smoke</c>), with the emulators and the sample workload from
/// their build output.
/// </summary>
internal static class SmokeCommand
{
    public static Command Create()
    {
        var injector = new Option<string>("--injector") { Description = "the injector executable to check (injector-webhook next to it)", HelpName = "PATH", Required = true };
        var emulator = new Option<string>("--emulator")
        {
            Description = "the user-mode emulator that runs an injector built for another machine (qemu-aarch64); no footprint figures then",
            HelpName = "PROGRAM",
        };
        var pod = new Option<string>("--pod") { Description = "a pod (JSON) for the webhook's AdmissionReview", HelpName = "FILE", Required = true };
        var command = new Command("smoke", "Checks every role of an injector executable against the emulators (scripts/aot-smoke runs it).") { injector, emulator, pod };
        DevCommand.SetAction(
            command,
            (parsed, errors) =>
            {
                var options = new SmokeOptions(
                    Path.GetFullPath(parsed.GetRequiredValue(injector)), parsed.GetValue(emulator), Path.GetFullPath(parsed.GetRequiredValue(pod)));
                var programs = DevPrograms.BuildOutputsBeside(AppContext.BaseDirectory) with { Injector = options.Injector };
                errors.AddRange(programs.Missing().Append(options.Pod).Where(path => !File.Exists(path)).Distinct().Select(path => $"{path} does not exist"));
                return (Options: options, Programs: programs);
            },
            (settings, invocation) => new SmokeRunner(settings.Options, settings.Programs, invocation.Output).RunAsync(invocation.Stop));
        return command;
    }
}
