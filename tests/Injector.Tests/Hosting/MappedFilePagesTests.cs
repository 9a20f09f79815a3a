using System.IO.MemoryMappedFiles;
using TokenInjector.Hosting;

namespace TokenInjector.Tests.Hosting;

public sealed class MappedFilePagesTests
{
    public static TheoryData<string, string, bool> MapsLines => new()
    {
        // name, a line of /proc/PID/maps, paged out?
        { "the executable's code", "55d0c8a00000-55d0c9100000 r-xp 00400000 fd:01 1234567                    /app/injector", true },
        { "read-only data", "55d0c8000000-55d0c8a00000 r--p 00000000 fd:01 1234567                    /app/injector", true },
        { "a shared read-only mapping", "7f0000000000-7f0000010000 r--s 00000000 fd:01 42 /var/run/file", true },
        { "a path with spaces", "7f0000000000-7f0000001000 r--p 00000000 fd:01 42 /opt/my app/lib.so", true },
        { "written data of a file", "55d0c9100000-55d0c9200000 rw-p 00b00000 fd:01 1234567                    /app/injector", false },
        { "anonymous memory", "7f1234560000-7f1234580000 rw-p 00000000 00:00 0 ", false },
        { "anonymous, no trailing space", "7f1234560000-7f1234580000 r--p 00000000 00:00 0", false },
        { "the heap", "55d0cb000000-55d0cb400000 rw-p 00000000 00:00 0                          [heap]", false },
        { "the vDSO", "7ffd1a3f0000-7ffd1a3f2000 r-xp 00000000 00:00 0                          [vdso]", false },
        { "a guard page", "7f0000000000-7f0000001000 ---p 00000000 00:00 0", false },
        { "an empty range", "7f0000001000-7f0000001000 r--p 00000000 fd:01 42 /lib/x.so", false },
        { "an inverted range", "7f0000002000-7f0000001000 r--p 00000000 fd:01 42 /lib/x.so", false },
        { "not hexadecimal", "7f00zz000000-7f0000001000 r--p 00000000 fd:01 42 /lib/x.so", false },
        { "no range", "r--p 00000000 fd:01 42 /lib/x.so", false },
        { "an empty line", "", false },
    };

    [Theory]
    [MemberData(nameof(MapsLines))]
    public void OnlyFileMappingsThatCannotBeWritten_ArePagedOut(string name, string line, bool expected) =>
        Assert.True(expected == MappedFilePages.TryParseReadOnlyFileMapping(line, out _, out _), name);

    [Fact]
    public void TheRange_IsReadAsStartAndLength()
    {
        Assert.True(MappedFilePages.TryParseReadOnlyFileMapping("55d0c8a00000-55d0c9100000 r-xp 00400000 fd:01 1234567 /app/injector", out var start, out var length));

        Assert.Equal(0x55d0c8a00000L, (long)start);
        Assert.Equal(0x700000UL, (ulong)length);
    }

    [Fact]
    public void Release_GivesBackTheResidentPagesOfAFileThisProcessMapsReadOnly()
    {
        using var directory = new TempDirectory();
        using var mapped = ReadOnlyMapping.OfAFreshFileReadThrough(directory.File("mapped.bin"));

        Assert.True(MappedFilePages.Release() > 0);

        Assert.Equal(0, ResidentKiB(mapped.Path));
    }

    [Fact]
    public void APageReadAgainAfterTheRelease_ComesBackAlone_NotWithTheFileAroundIt()
    {
        using var directory = new TempDirectory();
        using var mapped = ReadOnlyMapping.OfAFreshFileReadThrough(directory.File("mapped.bin"));
        Assert.True(MappedFilePages.Release() > 0);

        // Unadvised, the kernel reads the 128 KB around a page that faults from the file and maps the 64 KB around it.
        _ = mapped.View.ReadByte(mapped.View.Capacity / 2);

        // At most the one page: none if a sidecar started by another test released this process's pages meanwhile.
        Assert.InRange(ResidentKiB(mapped.Path), 0, Environment.SystemPageSize / 1024);
    }

    /// <summary>A file of 4 MB mapped read-only, every page of it read so that all are resident.</summary>
    private sealed class ReadOnlyMapping(string path, MemoryMappedFile file, MemoryMappedViewAccessor view) : IDisposable
    {
        public string Path => path;

        public MemoryMappedViewAccessor View => view;

        public static ReadOnlyMapping OfAFreshFileReadThrough(string path)
        {
            // Written through to the disk before it is mapped: the kernel keeps a page mapped while it is being written
            // back, and a fresh file's pages may be, whenever the machine's other writes wake the flusher.
            using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(Enumerable.Range(0, 4 * 1024 * 1024).Select(i => (byte)i).ToArray());
                stream.Flush(flushToDisk: true);
            }

            var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
            var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var sum = 0L;
            for (var offset = 0L; offset < view.Capacity; offset += Environment.SystemPageSize)
            {
                sum += view.ReadByte(offset);
            }

            Assert.True(ResidentKiB(path) >= 4 * 1024, $"{ResidentKiB(path)} KiB of the file resident after reading it all (checksum {sum})");
            return new ReadOnlyMapping(path, file, view);
        }

        public void Dispose()
        {
            view.Dispose();
            file.Dispose();
        }
    }

    // The Rss of the mapping of path in /proc/self/smaps: each entry is a maps line, then its figures ("Rss: 4 kB").
    private static long ResidentKiB(string path)
    {
        var inMapping = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (!line.Split(' ', 2)[0].EndsWith(':'))
            {
                inMapping = line.EndsWith(" " + path, StringComparison.Ordinal);
            }
            else if (inMapping && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                return long.Parse(line["Rss:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{path} is not mapped");
    }
}
