using System.CommandLine;
using System.CommandLine.Help;
using TokenInjector.Configuration;
using TokenInjector.Webhook;

namespace TokenInjector.Commands;

/// <summary>
/// <c>injector COMMAND [options]</c>: System.CommandLine parses the whole command line, prints help, and says which
/// command runs; each command then reads its settings (<see cref="CommandOptions"/>) and reports its own errors.
/// </summary>
internal static class InjectorCommandLine
{
    /// <summary>The commands, in the order help lists them.</summary>
    public static readonly IReadOnlyList<CommandOptions> Commands = [SidecarSettings.Command, WebhookSettings.Command, TokenCommand.Command];

    private static readonly Option<bool> Version = new("--version") { Description = "print the version and exit" };

    public static RootCommand Root { get; } = CreateRoot();

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var commandLine = Root.Parse(args, CommandOptions.Parsing);
        if (commandLine.Action is HelpAction)
        {
            // Help goes to stdout and exits 0 whatever else the command line holds.
            commandLine.Invoke(new InvocationConfiguration { Output = Console.Out, Error = Console.Error });
            if (commandLine.CommandResult.Command != Root)
            {
                await Console.Out.WriteLineAsync(CommandOptions.SourcesNote);
            }

            return 0;
        }

        var command = commandLine.CommandResult.Command;
        if (command == SidecarSettings.Command.Definition)
        {
            return await SidecarCommand.RunAsync(commandLine);
        }

        if (command == WebhookSettings.Command.Definition)
        {
            // In the sidecar build the webhook is not built in (and the trimmer drops it): the full build takes over.
            return WebhookRole.IsBuiltIn ? await WebhookCommand.RunAsync(commandLine, cancellationToken) : WebhookRole.ExecFullBuild(args);
        }

        if (command == TokenCommand.Command.Definition)
        {
            return await TokenCommand.RunAsync(commandLine);
        }

        if (commandLine.GetValue(Version) && commandLine.UnmatchedTokens.Count == 0)
        {
            await Console.Out.WriteLineAsync("injector " + typeof(InjectorCommandLine).Assembly.GetName().Version);
            return 0;
        }

        var problem = args.Length == 0 ? "no command given" : $"'{ErrorText.Shown(args[0])}' is not a command";
        await Console.Error.WriteLineAsync($"injector: error: {problem}; usage: injector <command> [options]");
        Root.Parse(["--help"], CommandOptions.Parsing).Invoke(new InvocationConfiguration { Output = Console.Error });
        return ConfigurationErrors.ExitCode;
    }

    private static RootCommand CreateRoot()
    {
        var root = new RootCommand("token-injector: Google ID tokens for workloads that call private Cloud Run services.");
        // Its own --version (the assembly version, as before) and no directives: the command line is only what help shows.
        foreach (var option in root.Options.Where(o => o is VersionOption).ToList())
        {
            root.Options.Remove(option);
        }

        root.Directives.Clear();
        root.Add(Version);
        foreach (var command in Commands)
        {
            root.Add(command.Definition);
        }

        return root;
    }
}
