namespace TokenInjector.DevStack.Processes;

/// <summary>A child process failed (exited, or never got ready); carries it so that its last lines can be shown.</summary>
internal sealed class ChildProcessException(string message, ChildProcess child) : Exception(message)
{
    public ChildProcess Child { get; } = child;
}
