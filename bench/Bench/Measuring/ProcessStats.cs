using System.Globalization;

namespace TokenInjector.Bench.Measuring;

/// <summary>
/// What the kernel says about a process, from <c>/proc</c>: its resident memory, and the CPU time (user + system) of
/// it and all its descendants (nginx's workers are children of the master that was started).
/// </summary>
internal static class ProcessStats
{
    /// <summary>Clock ticks per second of <c>/proc/PID/stat</c>'s times (<c>getconf CLK_TCK</c>), set once at start.</summary>
    public static int ClockTicksPerSecond { get; set; } = 100;

    /// <summary>VmRSS of <paramref name="pid"/>, in bytes.</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                // "VmRSS:	   23456 kB"
                return long.Parse(line["VmRSS:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"process {pid} has no VmRSS (gone?)");
    }

    /// <summary>User + system CPU time of <paramref name="pid"/> and every live descendant.</summary>
    public static TimeSpan TreeCpuTime(int pid)
    {
        var stats = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var id) && Read(id) is { } stat)
            {
                stats[id] = stat;
            }
        }

        long ticks = 0;
        var pending = new Stack<int>([pid]);
        while (pending.TryPop(out var current))
        {
            if (stats.TryGetValue(current, out var stat))
            {
                ticks += stat.Ticks;
            }

            foreach (var (child, _) in stats.Where(entry => entry.Value.Parent == current))
            {
                pending.Push(child);
            }
        }

        return TimeSpan.FromSeconds((double)ticks / ClockTicksPerSecond);
    }

    private static (int Parent, long Ticks)? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid ... utime stime ...": comm may hold spaces and parentheses, so split after the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[1], CultureInfo.InvariantCulture),
            long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
    }
}
