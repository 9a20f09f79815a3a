using System.Runtime.InteropServices;

namespace TokenInjector.DevStack.Processes;

/// <summary><c>kill(2)</c>: <see cref="System.Diagnostics.Process"/> can only SIGKILL, and a graceful stop needs SIGTERM.</summary>
internal static partial class NativeSignals
{
    private const int SigTerm = 15;

    /// <summary>Asks the process to stop, as the kubelet does; false when it is already gone.</summary>
    public static bool Terminate(int processId) => Kill(processId, SigTerm) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
