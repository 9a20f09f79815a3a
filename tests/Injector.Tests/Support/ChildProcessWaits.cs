namespace TokenInjector.Tests.Support;

/// <summary>A test's waits on a child process, bounded like every other await of the tests: by <see cref="TestWait.Limit"/>.</summary>
internal static class ChildProcessWaits
{
    /// <summary>The first line, on stdout or stderr, that matches; fails when the process exits first.</summary>
    public static Task<string> WaitForLineAsync(this ChildProcess process, Func<string, bool> match) =>
        process.WaitForLineAsync(match, TestWait.Limit);

    /// <summary>Until the process exited and all it wrote was read.</summary>
    public static Task WaitForExitAsync(this ChildProcess process) => process.WaitForExitAsync(TestWait.Limit);
}
