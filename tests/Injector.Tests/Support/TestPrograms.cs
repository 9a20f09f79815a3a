using TokenInjector.DevStack.Stack;

namespace TokenInjector.Tests.Support;

/// <summary>The solution's programs as the tests run them: the builds next to the test assembly, run with dotnet.</summary>
internal static class TestPrograms
{
    public static DevPrograms All { get; } = DevPrograms.NextTo(AppContext.BaseDirectory);

    public static string Injector => All.Injector;

    /// <summary>
    /// <c>injector sidecar</c> as a process, its socket in <paramref name="directory"/>, tokens from the metadata
    /// emulator at <paramref name="metadataHostAndPort"/>, with <paramref name="environment"/> on top of it; once
    /// <c>/readyz</c> answers 200.
    /// </summary>
    public static Task<SidecarProcess> StartSidecarAsync(
        TempDirectory directory, string metadataHostAndPort, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        SidecarProcess.StartAsync(Injector, directory.File("sidecar.sock"), metadataHostAndPort, args, TestWait.Limit, environment);
}
