using System.Globalization;

namespace TokenInjector.Tests.Support;

/// <summary>
/// What a process holds right now, read from /proc: resident memory and open file descriptors (sockets included).
/// Soaks and fuzzers sample it to show memory stays bounded and nothing leaks.
/// </summary>
internal sealed record ProcessFootprint(long ResidentBytes, int OpenDescriptors)
{
    public double ResidentMegabytes => ResidentBytes / (1024.0 * 1024.0);

    public static ProcessFootprint Of(int processId)
    {
        var status = File.ReadAllLines($"/proc/{processId}/status");
        var rss = status.Single(line => line.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kilobytes = long.Parse(rss["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return new ProcessFootprint(kilobytes * 1024, Directory.GetFileSystemEntries($"/proc/{processId}/fd").Length);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{ResidentMegabytes:F1} MB RSS, {OpenDescriptors} fds");
}
