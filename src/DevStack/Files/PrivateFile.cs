namespace TokenInjector.DevStack.Files;

/// <summary>Files only their owner can read: private keys, and configurations that hold a token.</summary>
internal static class PrivateFile
{
    /// <summary>Writes a new file with mode 0600, or replaces one by a rename, so that a reader never sees half of it.</summary>
    public static string Write(string path, string content)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }

        File.Move(temporary, path, overwrite: true);
        return path;
    }
}
