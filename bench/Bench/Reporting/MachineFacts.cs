using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TokenInjector.Bench.Reporting;

/// <summary>The machine and the tools a run used, so figures are never read without them.</summary>
internal sealed record MachineFacts(
    DateTimeOffset Date, string Commit, int Cores, string CpuModel, string Kernel, string Runtime, string Sdk, string Nginx, string Haproxy)
{
    public static MachineFacts Collect(string repository)
    {
        var cpuInfo = File.ReadAllLines("/proc/cpuinfo");
        var commit = Run("git", "-C", repository, "rev-parse", "--short=12", "HEAD");
        if (Run("git", "-C", repository, "status", "--porcelain", "--untracked-files=no").Length > 0)
        {
            commit += " (with uncommitted changes)";
        }

        return new MachineFacts(
            DateTimeOffset.UtcNow,
            commit,
            CoreCount(),
            cpuInfo.FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown",
            File.ReadAllText("/proc/sys/kernel/osrelease").Trim(),
            RuntimeInformation.FrameworkDescription,
            Run("dotnet", "--version"),
            Run("nginx", "-v").Replace("nginx version: ", "", StringComparison.Ordinal),
            Run("haproxy", "-v").Split('\n')[0]);
    }

    /// <summary>The machine's cores, whatever this process is pinned to (<c>Environment.ProcessorCount</c> counts only those).</summary>
    public static int CoreCount() => File.ReadLines("/proc/cpuinfo").Count(line => line.StartsWith("processor", StringComparison.Ordinal));

    /// <summary><c>getconf CLK_TCK</c>: the unit of the CPU times in <c>/proc/PID/stat</c>.</summary>
    public static int ClockTicksPerSecond() => int.Parse(Run("getconf", "CLK_TCK"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What a command prints (stdout, or stderr when stdout is empty: <c>nginx -v</c>), trimmed.</summary>
    private static string Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (output.Length > 0 ? output : error.Result).Trim();
    }
}
