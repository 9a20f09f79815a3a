using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;

namespace TokenInjector.DevCommandLine;

/// <summary>
/// The command line of the dev executables (<c>emulators</c>, <c>sample-workload</c>, <c>demo</c>), on
/// System.CommandLine, with the convention <c>injector</c> follows: <c>--name VALUE</c> or <c>--name=VALUE</c>,
/// repeatable options given again, booleans bare (<c>--x</c>) or with a value (<c>--x true|false</c>);
/// <c>--help</c> / <c>-h</c> prints usage on stdout and exits 0; every error, those of the parse and those the
/// command's own checks find, is printed at once, one line each on stderr (<c>emulators metadata: error: ...</c>),
/// and the exit code is 2.
/// </summary>
public static class DevCommand
{
    /// <summary>The exit code of a bad command line.</summary>
    public const int ErrorExitCode = 2;

    /// <summary>The top command of an executable, named as the executable (tests run it in-process, under another name).</summary>
    public static Command Root(string name, string description, params Command[] subcommands)
    {
        var root = new Command(name, description) { new HelpOption() };
        foreach (var subcommand in subcommands)
        {
            root.Subcommands.Add(subcommand);
        }

        return root;
    }

    /// <summary>
    /// Makes <paramref name="bind"/> read the parse result into settings (adding to the list any error it finds) and,
    /// when nothing was wrong, <paramref name="run"/> run them. Every error goes to stderr, with exit code 2.
    /// </summary>
    public static void SetAction<TSettings>(
        Command command, Func<ParseResult, List<string>, TSettings> bind, Func<TSettings, DevInvocation, Task<int>> run)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var invocation = new DevInvocation(parsed.InvocationConfiguration.Output, parsed.InvocationConfiguration.Error, cancellationToken);
            var (settings, errors) = Bind(parsed, bind);
            return errors.Count > 0 ? await ReportAsync(parsed, errors, invocation.Error) : await run(settings!, invocation);
        });
    }

    /// <summary>
    /// The whole of a dev executable's <c>Main</c>: runs the command <paramref name="args"/> name on the console. The
    /// first SIGINT, SIGTERM or SIGHUP asks it to stop (it cleans up, and a server exits 0); a second one ends the
    /// process at once.
    /// </summary>
    public static async Task<int> MainAsync(Command root, string[] args)
    {
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = !stop.IsCancellationRequested;
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
        return await InvokeAsync(root, args, Console.Out, Console.Error, stop.Token);
    }

    /// <summary>
    /// Parses <paramref name="args"/> with <paramref name="root"/> and runs the command they name. Output and error
    /// writers are the caller's; <paramref name="stop"/> reaches the command (signals are the caller's to handle).
    /// </summary>
    public static async Task<int> InvokeAsync(Command root, IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(root);
        var parsed = root.Parse(args);
        if (parsed.Action is not HelpAction && parsed.Errors.Count > 0)
        {
            return await ReportAsync(parsed, Errors(parsed), error);
        }

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // The executables handle SIGTERM and Ctrl-C themselves (stop gracefully, exit 0).
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
        };
        return await parsed.InvokeAsync(configuration, stop);
    }

    /// <summary>
    /// Settings bound from a parse result, or every error: those of the parse, then, when it had none, those
    /// <paramref name="bind"/> found (checks across options, files that must load...).
    /// </summary>
    public static (TSettings? Settings, IReadOnlyList<string> Errors) Bind<TSettings>(ParseResult parsed, Func<ParseResult, List<string>, TSettings> bind)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(bind);
        var errors = Errors(parsed);
        if (errors.Count > 0)
        {
            return (default, errors);
        }

        var found = new List<string>();
        var settings = bind(parsed, found);
        return found.Count > 0 ? (default, found) : (settings, found);
    }

    /// <summary>
    /// The parse errors as one line each, in the words <c>injector</c> uses: "unknown option '--x' (see 'tool --help')"
    /// (the word after an unknown option is its value, not reported again), "--x: a value is required (N)",
    /// "--x: given more than once; it takes a single value".
    /// </summary>
    public static List<string> Errors(ParseResult parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var help = $"(see '{CommandPath(parsed)} --help')";
        var unmatched = parsed.UnmatchedTokens;
        var lines = new List<string>();
        for (var i = 0; i < unmatched.Count; i++)
        {
            var token = unmatched[i];
            if (!token.StartsWith('-'))
            {
                lines.Add($"unexpected argument '{token}': options start with -- {help}");
                continue;
            }

            var equals = token.IndexOf('=', StringComparison.Ordinal);
            lines.Add($"unknown option '{(equals < 0 ? token : token[..equals])}' {help}");
            if (equals < 0 && i + 1 < unmatched.Count && !unmatched[i + 1].StartsWith('-') && Adjacent(parsed.Tokens, token, unmatched[i + 1]))
            {
                i++;
            }
        }

        foreach (var error in parsed.Errors)
        {
            switch (error.SymbolResult)
            {
                case OptionResult option:
                    lines.Add(Describe(option, error.Message));
                    break;
                case CommandResult when unmatched.Any(token => error.Message.Contains($"'{token}'", StringComparison.Ordinal)):
                    // Already said above, in our words.
                    break;
                case CommandResult { Command: { Action: null, Subcommands.Count: > 0 } command }:
                    lines.Add($"a command is required: one of {string.Join(", ", command.Subcommands.Select(subcommand => subcommand.Name))} {help}");
                    break;
                default:
                    lines.Add(error.Message);
                    break;
            }
        }

        return lines;
    }

    private static string Describe(OptionResult option, string message)
    {
        var name = option.Option.Name;
        return message.StartsWith(name + ":", StringComparison.Ordinal) ? message // a DevOptions parser's own words
            : option.IdentifierTokenCount == 0 ? $"{name}: required"
            : option.Tokens.Count == 0 ? $"{name}: a value is required" + (option.Option.HelpName is { } value ? $" ({value})" : string.Empty)
            : option.IdentifierTokenCount > 1 ? $"{name}: given more than once; it takes a single value"
            : $"{name}: {message}";
    }

    private static bool Adjacent(IReadOnlyList<Token> tokens, string first, string second)
    {
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (tokens[i].Value == first && tokens[i + 1].Value == second)
            {
                return true;
            }
        }

        return false;
    }

    private static string CommandPath(ParseResult parsed)
    {
        var path = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            path.Insert(0, result.Command.Name);
        }

        return string.Join(' ', path);
    }

    private static async Task<int> ReportAsync(ParseResult parsed, IEnumerable<string> errors, TextWriter error)
    {
        var prefix = CommandPath(parsed);
        foreach (var line in errors)
        {
            await error.WriteLineAsync($"{prefix}: error: {line}");
        }

        return ErrorExitCode;
    }
}

/// <summary>Where a command writes, and the token that asks it to stop (SIGTERM, Ctrl-C).</summary>
public sealed record DevInvocation(TextWriter Output, TextWriter Error, CancellationToken Stop)
{
    /// <summary>Completes (never fails) once the command is asked to stop: what a server waits on after start-up.</summary>
    public Task WhenStopped()
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Stop.Register(() => stopped.TrySetResult());
        return stopped.Task;
    }
}
