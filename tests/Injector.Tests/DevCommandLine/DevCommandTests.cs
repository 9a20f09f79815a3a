using System.CommandLine;
using TokenInjector.DevCommandLine;

namespace TokenInjector.Tests.DevCommandLine;

/// <summary>The dev executables' command-line convention, on a small command of its own.</summary>
public sealed class DevCommandTests
{
    [Fact]
    public async Task Help_PrintsUsageOnStdout_AndExitsZero_ForTheRootAndForACommand()
    {
        var (rootExit, rootOut, rootErr) = await RunAsync("--help");
        var (commandExit, commandOut, _) = await RunAsync("serve", "-h");

        Assert.Equal(0, rootExit);
        Assert.Contains("Usage:\n  tool [command] [options]", rootOut, StringComparison.Ordinal);
        Assert.Contains("  serve ", rootOut, StringComparison.Ordinal);
        Assert.Empty(rootErr);
        Assert.Equal(0, commandExit);
        Assert.Contains("--port <N>", commandOut, StringComparison.Ordinal);
        Assert.Contains("--verbose", commandOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], "port=8080 verbose=False")]
    [InlineData(new[] { "--port", "8081", "--verbose" }, "port=8081 verbose=True")]
    [InlineData(new[] { "--port=8082", "--verbose", "true" }, "port=8082 verbose=True")]
    [InlineData(new[] { "--verbose=false" }, "port=8080 verbose=False")]
    public async Task ValuesAndBooleans_EveryForm_AreRead(string[] args, string expected)
    {
        var (exitCode, output, error) = await RunAsync(["serve", .. args]);

        Assert.True(exitCode == 0, error);
        Assert.Equal(expected + "\n", output);
    }

    [Fact]
    public async Task EveryParseError_OneLineOnStderr_NamedByTheCommand_ExitTwo()
    {
        var (exitCode, output, error) = await RunAsync("serve", "--bogus", "stray", "--port", "0", "--name", "a", "--name", "b", "--verbose", "maybe", "--tag");

        Assert.Equal(DevCommand.ErrorExitCode, exitCode);
        Assert.Empty(output);
        Assert.Equal(
            [
                "tool serve: error: unknown option '--bogus' (see 'tool serve --help')",
                "tool serve: error: unexpected argument 'maybe': options start with -- (see 'tool serve --help')",
                "tool serve: error: --port: '0' is not a whole number from 1 to 65535",
                "tool serve: error: --name: given more than once; it takes a single value",
                "tool serve: error: --tag: a value is required (TAG)",
            ],
            Lines(error));
    }

    [Fact]
    public async Task ChecksOfTheParsedValues_AreReportedOnceTheParseIsClean_AllAtOnce()
    {
        var (exitCode, _, error) = await RunAsync("serve", "--port", "81", "--name", "reserved", "--tag", "x");

        Assert.Equal(DevCommand.ErrorExitCode, exitCode);
        Assert.Equal(["tool serve: error: the name 'reserved' is taken", "tool serve: error: port 81 is a privileged port"], Lines(error));
    }

    [Fact]
    public async Task NoCommand_NamesTheCommands_ExitTwo()
    {
        var (exitCode, _, error) = await RunAsync();

        Assert.Equal(DevCommand.ErrorExitCode, exitCode);
        Assert.Equal(["tool: error: a command is required: one of serve (see 'tool --help')"], Lines(error));
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var port = DevOptions.WholeNumber("--port", "where to listen", min: 1, max: 65535, defaultValue: 8080);
        var verbose = new Option<bool>("--verbose") { Description = "say more" };
        var name = new Option<string>("--name") { Description = "a name" };
        var tag = new Option<string[]>("--tag") { Description = "a tag (repeatable)", HelpName = "TAG" };
        var serve = new Command("serve", "Serves.") { port, verbose, name, tag };
        DevCommand.SetAction(
            serve,
            (parsed, errors) =>
            {
                if (parsed.GetValue(name) == "reserved")
                {
                    errors.Add("the name 'reserved' is taken");
                }

                if (parsed.GetValue(port) < 1024)
                {
                    errors.Add($"port {parsed.GetValue(port)} is a privileged port");
                }

                return (Port: parsed.GetValue(port), Verbose: parsed.GetValue(verbose));
            },
            async (settings, invocation) =>
            {
                await invocation.Output.WriteAsync($"port={settings.Port} verbose={settings.Verbose}\n");
                return 0;
            });
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await DevCommand.InvokeAsync(DevCommand.Root("tool", "A tool.", serve), args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }
}
