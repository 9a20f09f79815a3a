using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// The golden fixtures' folder, read where they are checked in (never a copy in the build output that a deleted or
/// renamed fixture would outlive): <c>NAME.input.json</c>, with <c>NAME.expected.json</c> or <c>NAME.denial.txt</c>.
/// </summary>
internal static class GoldenFixtures
{
    public const string InputSuffix = ".input.json";
    public const string ExpectedSuffix = ".expected.json";
    public const string DenialSuffix = ".denial.txt";

    public static string Directory { get; } = RepositoryFiles.PathOf("tests", "Injector.Tests", "Webhook", "Golden");

    public static string PathOf(string file) => Path.Combine(Directory, file);

    public static string Text(string file) => File.ReadAllText(PathOf(file));

    public static JsonNode Json(string file) => JsonNode.Parse(Text(file))!;

    /// <summary>The names of the fixtures that have an input and an output of this kind, in order.</summary>
    public static IEnumerable<string> With(string outputSuffix) =>
        System.IO.Directory.GetFiles(Directory, "*" + outputSuffix).Select(f => Path.GetFileName(f)[..^outputSuffix.Length])
            .Where(name => File.Exists(PathOf(name + InputSuffix)))
            .Order(StringComparer.Ordinal);
}
