namespace TokenInjector.DevStack.Files;

/// <summary>
/// A fresh directory under /tmp that only its owner can enter, short enough for Unix socket paths (108 bytes),
/// removed on dispose.
/// </summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "ti-")
    {
        // /tmp rather than TMPDIR: a deep TMPDIR would leave no room for a socket's name.
        Path = System.IO.Path.Combine("/tmp", prefix + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A process may still hold a file; /tmp is cleaned by the OS.
        }
    }
}
