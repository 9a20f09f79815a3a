using System.Globalization;
using System.Runtime.InteropServices;

namespace TokenInjector.Hosting;

/// <summary>
/// Hands the kernel back the clean pages this process maps from files: the executable's code and read-only data, and
/// those of the libraries it loaded (OpenSSL, libc). Start-up and a burst of calls touch far more of them than an idle
/// sidecar runs again (the kernel reads the 128 KB around each page that faults and maps the 64 KB around it), and
/// every one counts in the pod's memory until the kernel reclaims it under pressure. <c>madvise(MADV_PAGEOUT)</c>
/// reclaims them now, after <c>madvise(MADV_RANDOM)</c>: a page used again is read back alone, from the page cache or
/// the image, not with the pages around it (Linux 6.16 and later still read around a page of code; of data, not).
/// Only mappings that cannot be written are asked: pages the process wrote (relocated data, copies on write) are
/// anonymous memory, which the kernel keeps without swap, and memory no file backs (the GC heap, the type data
/// expanded at start, stacks) is never named. The kernel pages out only files the process owns or may write (so that
/// one process cannot evict another's pages of a shared library): the image ships the executables owned by the user
/// they run as, and the system's libraries stay. Linux 5.4 or later; where a call is refused or ignored (an older
/// kernel, a sandbox, a file owned by another user), nothing happens.
/// </summary>
internal static partial class MappedFilePages
{
    // The madvise(2) advice values: MADV_RANDOM (no read-around on the faults to come) and MADV_PAGEOUT.
    private const int NoReadAround = 1;
    private const int PageOut = 21;

    /// <summary>Asks the kernel to reclaim every read-only file mapping of this process; returns how many it accepted.</summary>
    public static int Release()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        string[] maps;
        try
        {
            maps = File.ReadAllLines("/proc/self/maps");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        var accepted = 0;
        foreach (var line in maps)
        {
            if (TryParseReadOnlyFileMapping(line, out var start, out var length))
            {
                // Advice for the faults to come: where it is refused, pages come back with those around them, as before.
                _ = Madvise(start, length, NoReadAround);
                if (Madvise(start, length, PageOut) == 0)
                {
                    accepted++;
                }
            }
        }

        return accepted;
    }

    /// <summary>
    /// A line of <c>/proc/PID/maps</c> (<c>START-END PERMS OFFSET DEV INODE [PATH]</c>) that maps a file
    /// (<c>PATH</c> is absolute) without write permission, as its start address and length.
    /// </summary>
    public static bool TryParseReadOnlyFileMapping(string line, out nint start, out nuint length)
    {
        (start, length) = (0, 0);
        var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 6 || fields[1].Length != 4 || fields[1][1] != '-' || !fields[5].StartsWith('/'))
        {
            return false;
        }

        var range = fields[0].Split('-');
        if (range.Length != 2
            || !ulong.TryParse(range[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var first)
            || !ulong.TryParse(range[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end)
            || end <= first)
        {
            return false;
        }

        (start, length) = ((nint)first, (nuint)(end - first));
        return true;
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
