using TokenInjector.DevStack.Stack;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Commands;

/// <summary>Bad configuration through the real executable: exit code 2 and one line naming each problem.</summary>
public sealed class ConfigurationErrorTests
{
    public static TheoryData<string, string[], string> SingleErrors => new()
    {
        { "route without https", ["--route", "8080=http://svc.a.run.app"], "--route: '8080=http://svc.a.run.app'" },
        { "route port", ["--route", "99999=https://svc.a.run.app"], "--route: '99999=https://svc.a.run.app' does not start with a local port" },
        { "audience with a space", ["--audience", "a b"], "--audience: 'a b'" },
        { "resolve", ["--resolve", "svc:443"], "--resolve: 'svc:443' is not HOST:PORT:ADDRESS" },
        { "socket mode", ["--socket-mode", "999"], "--socket-mode: '999'" },
        { "admin address", ["--admin-address", "anywhere"], "--admin-address: 'anywhere'" },
        { "token source", ["--token-source", "vault"], "--token-source: 'vault' is not one of: metadata, adc" },
        { "boolean", ["--allow-dynamic-audiences", "maybe"], "--allow-dynamic-audiences: 'maybe' is not a boolean" },
        { "duration", ["--fetch-timeout", "soon"], "--fetch-timeout: 'soon' is not a duration" },
        { "missing CA file", ["--upstream-ca-file", "/nonexistent/ca.pem"], "--upstream-ca-file: '/nonexistent/ca.pem' does not exist" },
        { "unknown option", ["--bogus", "1"], "unknown option '--bogus'" },
        { "missing value", ["--audience"], "--audience: a value is required" },
        { "log format", ["--log-format", "xml"], "--log-format: 'xml' is not one of: text, json" },
        { "impersonation target", ["--audience", "a", "--impersonate", "invoker@example.com"], "--impersonate: 'invoker@example.com' has service account 'invoker@example.com', which is not a service account's email" },
        { "delegates without a target", ["--audience", "a", "--impersonate", ";delegates=hop@p.iam.gserviceaccount.com"], "--impersonate: ';delegates=hop@p.iam.gserviceaccount.com' names delegates but no service account to act as" },
        { "IAM over plain HTTP", ["--audience", "a", "--iam-credentials-url", "http://iam.example"], "--iam-credentials-url: 'http://iam.example' is not an https:// URL" },
    };

    [Theory]
    [MemberData(nameof(SingleErrors))]
    public async Task EachInvalidOption_ExitsTwo_NamingIt(string name, string[] args, string expected)
    {
        using var process = SidecarProcess.Launch(new SidecarLaunch(TestPrograms.Injector, args));
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 2, name);
        var lines = process.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, line => line.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SeveralInvalidOptions_AllNamed_OneLineEach()
    {
        using var process = SidecarProcess.Launch(new SidecarLaunch(TestPrograms.Injector, ["--route", "x", "--audience", "a b", "--socket-mode", "9", "--bogus", "1"])
        {
            Environment = new Dictionary<string, string> { ["TOKEN_INJECTOR_LOG_FORMAT"] = "xml" },
        });
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        var lines = process.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, line => Assert.StartsWith("injector sidecar: error: ", line, StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("(from TOKEN_INJECTOR_LOG_FORMAT)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConfigFile_ValuesAreRead_AndFlagsWin()
    {
        using var directory = new TempDirectory();
        var file = directory.File("config.yaml");
        await File.WriteAllTextAsync(file, "audience:\n  - https://a.example\nsocket-mode: '0600'\nlog-format: yaml\nnot-an-option: 1\n");

        using var process = SidecarProcess.Launch(new SidecarLaunch(TestPrograms.Injector, ["--config", file, "--socket-mode", "bad"]));
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("--socket-mode: 'bad'", process.Output, StringComparison.Ordinal);
        Assert.Contains($"--log-format: 'yaml' is not one of: text, json (from {file}: log-format)", process.Output, StringComparison.Ordinal);
        Assert.Contains("unknown key 'not-an-option'", process.Output, StringComparison.Ordinal);
    }
}
