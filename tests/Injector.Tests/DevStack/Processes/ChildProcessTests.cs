using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.DevStack.Processes;

/// <summary>The one way the demo, the benchmark and the tests run a program, on small shell scripts.</summary>
public sealed class ChildProcessTests
{
    [Fact]
    public async Task Output_KeepsStdoutAndStderrApart_AndTogetherInOrder()
    {
        var (exitCode, stdout, stderr) = await ChildProcess.RunAsync("sh", ["-c", "echo one; echo two >&2; echo three; exit 3"]);

        Assert.Equal(3, exitCode);
        Assert.Equal("one\nthree\n", stdout);
        Assert.Equal("two\n", stderr);
    }

    [Fact]
    public async Task WaitForLine_ProcessExitsFirst_FailsAtOnce_WithTheProcess()
    {
        using var process = ChildProcess.Start("sh", ["-c", "echo starting; exit 4"], name: "doomed");

        var error = await Assert.ThrowsAsync<ChildProcessException>(() => process.WaitForLineAsync(line => line == "ready", TimeSpan.FromMinutes(5)));

        Assert.Same(process, error.Child);
        Assert.Equal("doomed exited with code 4 before it printed the line awaited", error.Message);
        Assert.Equal(["starting"], process.RecentLines());
    }

    [Fact]
    public async Task WaitForLine_PrintedJustBeforeExiting_IsFound()
    {
        using var process = ChildProcess.Start("sh", ["-c", "echo ready; exit 0"]);

        Assert.Equal("ready", await process.WaitForLineAsync(line => line == "ready"));
    }

    [Fact]
    public async Task StopAsync_SendsSigtermFirst_SoTheChildCleansUp()
    {
        using var directory = new TempDirectory();
        var marker = directory.File("cleaned-up");
        using var process = ChildProcess.Start("sh", ["-c", $"trap 'touch {marker}; exit 0' TERM; echo up; while true; do sleep 0.1; done"]);
        await process.WaitForLineAsync(line => line == "up");

        await process.StopAsync(TestWait.Limit);

        Assert.True(process.HasExited);
        Assert.Equal(0, process.ExitCode);
        Assert.True(File.Exists(marker));
    }

    [Fact]
    public async Task StopAsync_ChildIgnoresSigterm_KilledAfterTheGrace()
    {
        using var process = ChildProcess.Start("sh", ["-c", "trap '' TERM; echo up; while true; do sleep 0.1; done"]);
        await process.WaitForLineAsync(line => line == "up");

        await process.StopAsync(TimeSpan.FromMilliseconds(300)).Bounded();

        Assert.True(process.HasExited);
        Assert.NotEqual(0, process.ExitCode);
    }

    [Fact]
    public async Task Environment_UsersTokenInjectorSettingsAreNotInherited_WhatIsPassedIs()
    {
        var inherited = "TOKEN_INJECTOR_CHILD_PROCESS_TEST_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(inherited, "from-the-user");
        try
        {
            var (_, stdout, _) = await ChildProcess.RunAsync(
                "sh", ["-c", $"echo ${{{inherited}:-unset}} $TOKEN_INJECTOR_ROUTE_8080"], new Dictionary<string, string> { ["TOKEN_INJECTOR_ROUTE_8080"] = "passed" });

            Assert.Equal("unset passed\n", stdout);
        }
        finally
        {
            Environment.SetEnvironmentVariable(inherited, null);
        }
    }
}
