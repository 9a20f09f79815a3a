using System.CommandLine;
using TokenInjector.DevCommandLine;
using TokenInjector.DevStack.Stack;
using TokenInjector.Demo.Smoke;

namespace TokenInjector.Demo;

/// <summary>
/// <c>demo [options]</c> (what <c>scripts/demo</c> runs): the sidecar and the sample client against the emulators,
/// watched once a second; and <c>demo smoke</c> (what <c>scripts/aot-smoke</c> runs): the same stack with a published
/// <c>injector</c>, checked role by role.
/// </summary>
internal sealed class DemoCommand
{
    private readonly Option<TimeSpan> _duration = DevOptions.Duration(
        "--duration", "how long the client calls the service", TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), defaultValue: TimeSpan.FromSeconds(60));

    private readonly Option<double> _rate = DevOptions.Number("--rate", "unary calls per second", min: 0.1, max: 200, defaultValue: 5);
    private readonly Option<TimeSpan> _tokenLifetime = DevOptions.Duration(
        "--token-lifetime", "lifetime of the emulator's ID tokens (real ones live 1h)", TimeSpan.FromSeconds(10), TimeSpan.FromHours(1), defaultValue: TimeSpan.FromSeconds(20));

    private DemoCommand()
    {
        Command = DevCommand.Root(
            "demo",
            "Runs the metadata emulator, the sample service behind the Cloud Run emulator, 'injector sidecar' with a route, and the "
            + "sample client, as separate processes on loopback; Ctrl-C stops everything early.",
            SmokeCommand.Create());
        Command.Options.Add(_duration);
        Command.Options.Add(_rate);
        Command.Options.Add(_tokenLifetime);
        DevCommand.SetAction(Command, Bind, RunAsync);
    }

    private Command Command { get; }

    public static Command Create() => new DemoCommand().Command;

    /// <summary>The options <paramref name="args"/> give, or every error in them.</summary>
    public static (DemoOptions? Options, IReadOnlyList<string> Errors) Parse(IReadOnlyList<string> args)
    {
        var demo = new DemoCommand();
        return DevCommand.Bind(demo.Command.Parse(args), demo.Bind);
    }

    private DemoOptions Bind(ParseResult parsed, List<string> errors) => new()
    {
        Duration = parsed.GetValue(_duration),
        Rate = parsed.GetValue(_rate),
        TokenLifetime = parsed.GetValue(_tokenLifetime),
    };

    private static async Task<int> RunAsync(DemoOptions options, DevInvocation invocation)
    {
        var programs = DevPrograms.BuildOutputsBeside(AppContext.BaseDirectory);
        if (programs.Missing().ToList() is { Count: > 0 } missing)
        {
            await invocation.Error.WriteLineAsync($"demo: not built: {string.Join(", ", missing)} (scripts/demo builds them)");
            return DevCommand.ErrorExitCode;
        }

        await invocation.Output.WriteLineAsync("token-injector demo: a gRPC client with no auth code calls a private Cloud Run service through the sidecar while its ID token rotates");
        return await new DemoRunner(options, programs, invocation.Output).RunAsync(invocation.Stop);
    }
}
