using TokenInjector.DevStack.Stack;

namespace TokenInjector.Tests.Support;

/// <summary>
/// <c>injector sidecar --token-source adc</c> as a process with <c>GOOGLE_APPLICATION_CREDENTIALS</c> naming a file of
/// the given content: started against a stack until ready, or run until it exits at start.
/// </summary>
internal static class AdcSidecar
{
    /// <summary>The sidecar with <paramref name="credentials"/> written to <paramref name="fileName"/> in the stack's directory, once <c>/readyz</c> is 200.</summary>
    public static async Task<SidecarProcess> StartAsync(CloudRunStack stack, string fileName, string credentials, IReadOnlyList<string> args)
    {
        var file = stack.Directory.File(fileName);
        await File.WriteAllTextAsync(file, credentials);
        var launch = stack.Sidecar(["--token-source", "adc", .. args]) with
        {
            MetadataHost = $"127.0.0.1:{FreePort.Next()}",
            Environment = new Dictionary<string, string> { ["GOOGLE_APPLICATION_CREDENTIALS"] = file },
        };
        return await SidecarProcess.StartAsync(launch, TestWait.Limit);
    }

    /// <summary>The sidecar run with a file of <paramref name="content"/> until it exits; whether it made its socket.</summary>
    public static async Task<(int ExitCode, string Stderr, bool MadeSocket)> RunAsync(string content)
    {
        using var directory = new TempDirectory();
        var file = directory.File("credentials.json");
        await File.WriteAllTextAsync(file, content);
        using var sidecar = SidecarProcess.Launch(new SidecarLaunch(TestPrograms.Injector, ["--token-source", "adc", "--audience", "https://a.run.app"])
        {
            SocketPath = directory.File("s.sock"),
            Environment = new Dictionary<string, string> { ["GOOGLE_APPLICATION_CREDENTIALS"] = file },
        });
        await sidecar.WaitForExitAsync();
        return (sidecar.ExitCode, sidecar.Stderr, File.Exists(directory.File("s.sock")));
    }
}
