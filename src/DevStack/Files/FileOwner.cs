using System.Runtime.InteropServices;

namespace TokenInjector.DevStack.Files;

/// <summary><c>chown(2)</c>, which .NET has no API for.</summary>
internal static partial class FileOwner
{
    /// <summary>Makes <paramref name="userId"/> and <paramref name="groupId"/> the owners of <paramref name="path"/>; only root may give a file away.</summary>
    public static void Set(string path, int userId, int groupId)
    {
        if (Chown(path, userId, groupId) != 0)
        {
            throw new IOException($"chown {userId}:{groupId} {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, int owner, int group);
}
