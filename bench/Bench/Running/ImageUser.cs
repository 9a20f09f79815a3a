using TokenInjector.DevStack.Files;

namespace TokenInjector.Bench.Running;

/// <summary>
/// Runs what the bench measures (the sidecar, bare Kestrel) as the image runs it: as user <see cref="Id"/>, from an
/// executable that user owns (the Dockerfile's <c>COPY --chown</c>), each process from a copy of its own. It decides
/// memory: the kernel hands back the clean pages a process maps from a file (<c>MADV_PAGEOUT</c>, the sidecar's
/// <c>MappedFilePages</c>) only for files that process owns or may write, and never pages that two processes map. A
/// sidecar run by root would hand back the system's libraries too, which in a pod it cannot; sidecars run from one
/// file would keep each other's pages. Run by another user, the bench runs them as itself: the same rule.
/// </summary>
internal sealed class ImageUser(string directory)
{
    /// <summary>The image's <c>USER</c>, and the user the webhook runs the sidecar as.</summary>
    public const int Id = 65532;

    /// <summary>Gives the work directory (the sockets and the CA are there) to the image's user; nothing when not root.</summary>
    public void TakeDirectory()
    {
        if (Environment.IsPrivilegedProcess)
        {
            FileOwner.Set(directory, Id, Id);
        }
    }

    /// <summary>
    /// The command line that runs <paramref name="executable"/> as the image's user, from the copy named
    /// <paramref name="copyName"/> in the work directory: made on first use, read-only, and written through to the disk
    /// (the kernel keeps a page mapped while it is being written back).
    /// </summary>
    public string[] Command(string executable, string copyName)
    {
        var copy = Path.Combine(directory, copyName);
        if (!File.Exists(copy))
        {
            using (var source = File.OpenRead(executable))
            using (var target = new FileStream(copy, FileMode.CreateNew, FileAccess.Write))
            {
                source.CopyTo(target);
                target.Flush(flushToDisk: true);
            }

            const UnixFileMode readAndExecute = UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead
                | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            File.SetUnixFileMode(copy, readAndExecute);
            if (Environment.IsPrivilegedProcess)
            {
                FileOwner.Set(copy, Id, Id);
            }
        }

        return Environment.IsPrivilegedProcess ? ["setpriv", $"--reuid={Id}", $"--regid={Id}", "--clear-groups", copy] : [copy];
    }

    /// <summary>
    /// Reads the copy named <paramref name="copyName"/> (once <see cref="Command"/> has made it) from end to end, so
    /// that the next process started from it finds its executable in the page cache, as a pod does on a node that has
    /// just pulled the image. The sidecar's release of its pages evicts them from the cache as well: without this, each
    /// start of it after the first would time the disk.
    /// </summary>
    public void ReadThrough(string copyName)
    {
        var copy = Path.Combine(directory, copyName);
        if (File.Exists(copy))
        {
            using var stream = File.OpenRead(copy);
            stream.CopyTo(Stream.Null);
        }
    }
}
