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

    /// <summary>
    /// CPU time and context switches of <paramref name="pid"/> and every live descendant, summed over their threads
    /// (<c>/proc/PID/task/*/status</c>): a voluntary switch is a thread going to sleep, waiting for work or I/O.
    /// </summary>
    public static ProcessTreeSample TreeSample(int pid)
    {
        var stats = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var id) && Read(id) is { } stat)
            {
                stats[id] = stat;
            }
        }

        long ticks = 0, voluntary = 0, involuntary = 0;
        var pending = new Stack<int>([pid]);
        while (pending.TryPop(out var current))
        {
            if (stats.TryGetValue(current, out var stat))
            {
                ticks += stat.Ticks;
                var (v, i) = ThreadSwitches(current);
                voluntary += v;
                involuntary += i;
            }

            foreach (var (child, _) in stats.Where(entry => entry.Value.Parent == current))
            {
                pending.Push(child);
            }
        }

        return new ProcessTreeSample(TimeSpan.FromSeconds((double)ticks / ClockTicksPerSecond), voluntary, involuntary);
    }

    private static (long Voluntary, long Involuntary) ThreadSwitches(int pid)
    {
        long voluntary = 0, involuntary = 0;
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        voluntary += long.Parse(line.AsSpan("voluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        involuntary += long.Parse(line.AsSpan("nonvoluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The process or one of its threads ended while being read: what was read still counts.
        }

        return (voluntary, involuntary);
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

/// <summary>One reading of a process tree's counters; the difference of two readings is what happened between them.</summary>
internal readonly record struct ProcessTreeSample(TimeSpan Cpu, long VoluntarySwitches, long InvoluntarySwitches)
{
    public static ProcessTreeSample operator -(ProcessTreeSample after, ProcessTreeSample before) => new(
        after.Cpu - before.Cpu, after.VoluntarySwitches - before.VoluntarySwitches, after.InvoluntarySwitches - before.InvoluntarySwitches);

    public static ProcessTreeSample operator +(ProcessTreeSample first, ProcessTreeSample second) => new(
        first.Cpu + second.Cpu, first.VoluntarySwitches + second.VoluntarySwitches, first.InvoluntarySwitches + second.InvoluntarySwitches);
}
