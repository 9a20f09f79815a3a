using System.Globalization;
using System.Text.RegularExpressions;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Architecture;

/// <summary>Every log event id of src/Injector is unique and in its folder's range (docs/ARCHITECTURE.md "Conventions").</summary>
public sealed partial class LogEventIdTests
{
    [Fact]
    public void EventIds_AreUnique_AndInTheirFoldersRange()
    {
        var ranges = ArchitectureDoc.EventIdRanges();
        var source = RepositoryFiles.PathOf("src", "Injector");
        var events = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(source, file))
            .Where(file => file.Split('/')[0] is not ("obj" or "bin"))
            .SelectMany(file => EventId().Matches(File.ReadAllText(Path.Combine(source, file)))
                .Select(m => (Folder: file.Split('/')[0], Id: int.Parse(m.Groups["id"].Value, CultureInfo.InvariantCulture), File: file)))
            .ToList();

        Assert.True(events.Count >= 20, $"expected the sidecar's and the webhook's log events, found {events.Count}");
        Assert.Empty(events.GroupBy(e => e.Id).Where(g => g.Count() > 1).Select(g => $"event id {g.Key} is used by {string.Join(", ", g.Select(e => e.File))}"));
        Assert.Empty(events
            .Where(e => !ranges.TryGetValue(e.Folder, out var range) || e.Id < range.First || e.Id > range.Last)
            .Select(e => $"{e.File}: event id {e.Id} is outside the range docs/ARCHITECTURE.md gives {e.Folder}/"));
    }

    [GeneratedRegex(@"\[LoggerMessage\(EventId = (?<id>\d+)")]
    private static partial Regex EventId();
}
