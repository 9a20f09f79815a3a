using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using TokenInjector.Bench.Running;
using TokenInjector.Commands;
using TokenInjector.SampleWorkload;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Packaging;

/// <summary>
/// The Dockerfile cannot be built here (no Docker engine), so it is read as text and held to what matters: what it
/// copies exists, what it publishes exists and produces the executables its entrypoints run, its runtime stages are
/// non-root 65532 on a runtime (not SDK) image, and its default commands are roles the CLI dispatches. For
/// <c>docker buildx build --platform linux/amd64,linux/arm64</c>: the build stage runs on the build platform and
/// builds everything for the runtime identifier of the target's architecture, one that scripts/publish supports, and
/// the runtime stages (the target platform's images) run nothing at build time.
/// </summary>
public sealed partial class DockerfileTests
{
    /// <summary>The architectures of the multi-arch image (Docker's names, as buildx sets TARGETARCH).</summary>
    private static readonly string[] TargetArchitectures = ["amd64", "arm64"];

    private static readonly IReadOnlyList<Stage> Stages = Parse(File.ReadAllText(RepositoryFiles.PathOf("Dockerfile")));

    [Fact]
    public void EveryCopyFromTheContext_NamesFilesThatExistAndAreNotIgnored()
    {
        var ignored = File.ReadAllLines(RepositoryFiles.PathOf(".dockerignore"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();
        var copies = Stages.SelectMany(stage => stage.Instructions).Where(i => i.Keyword == "COPY" && !i.Arguments.Any(a => a.StartsWith("--from=", StringComparison.Ordinal))).ToList();

        Assert.NotEmpty(copies);
        foreach (var copy in copies)
        {
            var sources = copy.Arguments.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).SkipLast(1).ToList();
            Assert.NotEmpty(sources);
            foreach (var source in sources)
            {
                var path = RepositoryFiles.PathOf(source.TrimEnd('/').Split('/'));
                Assert.True(File.Exists(path) || Directory.Exists(path), $"COPY {source}: not in the repository");
                Assert.DoesNotContain(ignored, pattern => IsIgnored(source, pattern));
            }
        }
    }

    [Fact]
    public void PublishedProjects_ExistAndBuildTheExecutablesTheEntrypointsRun()
    {
        var published = PublishCommands().Select(m => m.Groups["project"].Value).ToList();
        var assemblyNames = published.Select(project =>
        {
            var path = RepositoryFiles.PathOf(project.Split('/'));
            Assert.True(File.Exists(path), $"dotnet publish {project}: no such project");
            return XDocument.Load(path).Descendants("AssemblyName").Single().Value;
        }).ToList();

        Assert.Contains("injector", assemblyNames);
        Assert.Contains("sample-workload", assemblyNames);
        foreach (var stage in RuntimeStages())
        {
            var executable = Path.GetFileName(stage.Exec("ENTRYPOINT")[0]);
            Assert.Contains(executable, assemblyNames);
        }
    }

    [Fact]
    public void RuntimeStages_RunAsNonRoot65532_OnARuntimeImage()
    {
        var runtime = RuntimeStages().ToList();

        Assert.Equal(["sample-workload", "injector"], runtime.Select(s => s.Name));
        foreach (var stage in runtime)
        {
            var user = stage.Instructions.Last(i => i.Keyword == "USER").Text;
            Assert.Matches(@"^65532(:65532)?$", user);
            Assert.DoesNotContain("/sdk", stage.Image, StringComparison.Ordinal);
            Assert.StartsWith("mcr.microsoft.com/dotnet/", stage.Image, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void DefaultTarget_IsTheInjector_WithSidecarAsDefaultRole()
    {
        var last = Stages[^1];

        Assert.Equal("injector", last.Name);
        Assert.Equal(["/app/injector"], last.Exec("ENTRYPOINT"));
        var role = Assert.Single(last.Exec("CMD"));
        Assert.Equal("sidecar", role);
        Assert.Contains(role, CliHelp.Roles());
    }

    [Fact]
    public void InjectorStage_RunsTheNativeAotExecutable_WithoutADotnetRuntime()
    {
        var injector = Stages.Single(s => s.Name == "injector");
        var publish = PublishCommands().Single(m => m.Groups["project"].Value == "src/Injector/Injector.csproj");
        var project = XDocument.Load(RepositoryFiles.PathOf("src", "Injector", "Injector.csproj"));

        Assert.StartsWith("mcr.microsoft.com/dotnet/runtime-deps:", injector.Image, StringComparison.Ordinal);
        Assert.Contains(" -r \"$rid\" ", publish.Groups["arguments"].Value, StringComparison.Ordinal);
        Assert.Equal("true", project.Descendants("PublishAot").Single().Value);
    }

    [Fact]
    public void BuildStage_RunsOnTheBuildPlatform_WithTheRuntimeIdentifierOfTheTargetArchitecture()
    {
        var build = Stages.Single(s => s.Name == "build");
        var rid = build.Instructions.Single(i => i.Keyword == "ENV" && i.Text.StartsWith("RID=", StringComparison.Ordinal)).Text["RID=".Length..];
        var published = PublishScriptRuntimes();

        Assert.Equal("$BUILDPLATFORM", build.Platform);
        Assert.Contains(build.Instructions, i => i.Keyword == "ARG" && i.Text == "TARGETARCH");
        Assert.Equal(["linux-x64", "linux-arm64"], TargetArchitectures.Select(arch => Expand(rid, "TARGETARCH", arch)));
        Assert.All(TargetArchitectures, arch => Assert.Contains(Expand(rid, "TARGETARCH", arch), published));
        Assert.Equal(published, ScriptRuntimes("scripts", "lib", "aot-toolchain"));
    }

    [Fact]
    public void BuildStage_RestoresPublishesAndInstallsTheLinker_ForTheTargetRuntime()
    {
        var commands = Stages.Single(s => s.Name == "build").Instructions.Where(i => i.Keyword == "RUN")
            .SelectMany(i => i.Text.Split("&&", StringSplitOptions.TrimEntries))
            .Where(c => c.StartsWith("dotnet ", StringComparison.Ordinal) || c.StartsWith("scripts/", StringComparison.Ordinal))
            .ToList();

        Assert.Equal(
            ["scripts/lib/aot-toolchain", "dotnet restore", "dotnet restore", "scripts/publish", "dotnet publish"],
            commands.Select(c => string.Join(' ', c.Split(' ').Take(c.StartsWith("dotnet", StringComparison.Ordinal) ? 2 : 1))));
        Assert.All(commands.Where(c => c.StartsWith("dotnet ", StringComparison.Ordinal)), c => Assert.Contains(" -r \"$RID\"", c, StringComparison.Ordinal));
        Assert.All(commands.Where(c => c.StartsWith("scripts/", StringComparison.Ordinal)), c => Assert.Matches(@"^scripts/\S+ (\S+ )?""\$RID""", c));
    }

    [Fact]
    public void RuntimeStages_AreTheTargetPlatformsImages_AndRunNothingAtBuildTime()
    {
        foreach (var stage in RuntimeStages())
        {
            Assert.Null(stage.Platform);
            Assert.DoesNotContain(stage.Instructions, i => i.Keyword == "RUN");
        }
    }

    [Fact]
    public void InjectorStage_ShipsTheSidecarBuild_AndTheFullBuildThatInjectorWebhookExecs()
    {
        var copied = Stages.Single(s => s.Name == "injector").Instructions
            .Where(i => i.Keyword == "COPY" && i.Arguments.Contains("--from=build"))
            .SelectMany(i => i.Arguments.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).SkipLast(1)).Select(Path.GetFileName).ToList();
        var publishScript = File.ReadAllText(RepositoryFiles.PathOf("scripts", "publish"));

        Assert.Equal(["injector", WebhookRole.FullBuildName], copied);
        Assert.Contains(Stages.SelectMany(s => s.Instructions), i => i.Keyword == "RUN" && i.Text.StartsWith("scripts/publish /out/injector ", StringComparison.Ordinal));
        Assert.Contains("publish injector false ", publishScript, StringComparison.Ordinal);
        Assert.Contains($"publish {WebhookRole.FullBuildName} true ", publishScript, StringComparison.Ordinal);
    }

    [Fact]
    public void InjectorStage_ShipsItsExecutables_OwnedByTheUserTheyRunAs_AndWritableByNone()
    {
        // MappedFilePages hands back the executable's pages only if the kernel lets it: the process owns the file. The
        // bench runs the sidecar the same way (ImageUser).
        var injector = Stages.Single(s => s.Name == "injector");
        var copy = Assert.Single(injector.Instructions, i => i.Keyword == "COPY" && i.Arguments.Contains("--from=build"));
        var user = injector.Instructions.Last(i => i.Keyword == "USER").Text;

        Assert.Contains($"--chown={user}", copy.Arguments);
        Assert.Equal($"{PodMutator.SidecarUser}:{PodMutator.SidecarUser}", user);
        Assert.Equal(PodMutator.SidecarUser, ImageUser.Id);
        var mode = Convert.ToInt32(Assert.Single(copy.Arguments, a => a.StartsWith("--chmod=", StringComparison.Ordinal))["--chmod=".Length..], 8);
        Assert.Equal(0b101_101_101, mode);
    }

    [Fact]
    public void SampleWorkloadTarget_DefaultsToARoleOfTheSample()
    {
        var stage = Stages.Single(s => s.Name == "sample-workload");
        var sampleRoles = SampleWorkloadCommand.Create(new Dictionary<string, string>(), TimeProvider.System).Subcommands.Select(command => command.Name);

        Assert.Equal(["/app/sample-workload"], stage.Exec("ENTRYPOINT"));
        Assert.Contains(Assert.Single(stage.Exec("CMD")), sampleRoles);
    }

    [Fact]
    public void CopyFromStages_NameEarlierStages()
    {
        for (var index = 0; index < Stages.Count; index++)
        {
            foreach (var copy in Stages[index].Instructions.Where(i => i.Keyword == "COPY"))
            {
                var from = copy.Arguments.FirstOrDefault(a => a.StartsWith("--from=", StringComparison.Ordinal));
                if (from is not null)
                {
                    Assert.Contains(from["--from=".Length..], Stages.Take(index).Select(s => s.Name));
                }
            }
        }
    }

    [Fact]
    public void BuildStage_CopiesEveryFileItsScriptsSource()
    {
        // Copied file by file (for the layer cache), so a script that sources a shared file needs that file copied too.
        var copied = Stages.Single(s => s.Name == "build").Instructions
            .Where(i => i.Keyword == "COPY" && !i.Arguments.Any(a => a.StartsWith("--", StringComparison.Ordinal)))
            .SelectMany(i => i.Arguments.SkipLast(1).Select(source => (Source: source, Destination: i.Arguments[^1])))
            .Select(c => c.Destination.EndsWith('/') ? c.Destination + Path.GetFileName(c.Source) : c.Destination)
            .ToHashSet(StringComparer.Ordinal);
        var scripts = copied.Where(path => path.StartsWith("scripts/", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            foreach (Match sourced in SourcedFile().Matches(File.ReadAllText(RepositoryFiles.PathOf(script.Split('/')))))
            {
                var path = sourced.Groups["beside"].Success ? Path.GetDirectoryName(script) + "/" + sourced.Groups["beside"].Value : sourced.Groups["path"].Value;
                Assert.True(copied.Contains(path), $"{script} sources {path}, which the build stage does not copy");
            }
        }
    }

    /// <summary>The <c>dotnet publish</c> commands of the RUN instructions, and of the repository scripts they run.</summary>
    private static IEnumerable<Match> PublishCommands() =>
        Stages.SelectMany(s => s.Instructions).Where(i => i.Keyword == "RUN")
            .SelectMany(i => i.Arguments.Where(a => a.StartsWith("scripts/", StringComparison.Ordinal))
                .Select(script => File.ReadAllText(RepositoryFiles.PathOf(script.Split('/'))))
                .Prepend(i.Text))
            .SelectMany(text => PublishCommand().Matches(text));

    /// <summary>The runtimes scripts/publish accepts: the labels of its <c>case "$rid" in</c>.</summary>
    private static IReadOnlyList<string> PublishScriptRuntimes() => ScriptRuntimes("scripts", "publish");

    private static IReadOnlyList<string> ScriptRuntimes(params string[] script) =>
        [.. RuntimeCase().Matches(File.ReadAllText(RepositoryFiles.PathOf(script))).Select(m => m.Groups["rid"].Value)];

    /// <summary>Dockerfile variable expansion of one build argument: <c>$NAME</c>, <c>${NAME}</c>, <c>${NAME/pattern/replacement}</c>.</summary>
    private static string Expand(string text, string name, string value)
    {
        var expanded = Reference().Replace(text, m =>
        {
            Assert.Equal(name, m.Groups["name"].Value);
            return m.Groups["pattern"].Success ? value.Replace(m.Groups["pattern"].Value, m.Groups["replacement"].Value, StringComparison.Ordinal) : value;
        });
        Assert.DoesNotContain("$", expanded, StringComparison.Ordinal);
        return expanded;
    }

    private static IEnumerable<Stage> RuntimeStages() => Stages.Where(s => s.Instructions.Any(i => i.Keyword == "ENTRYPOINT"));

    private static bool IsIgnored(string source, string pattern)
    {
        var directory = pattern.TrimStart('*', '/').TrimEnd('/');
        var path = source.TrimEnd('/');
        return pattern.StartsWith("**/", StringComparison.Ordinal)
            ? path.Split('/').Contains(directory)
            : path == directory || path.StartsWith(directory + "/", StringComparison.Ordinal);
    }

    private static List<Stage> Parse(string dockerfile)
    {
        // Join continuation lines, drop comments and blank lines.
        var logical = new List<string>();
        var current = string.Empty;
        foreach (var raw in dockerfile.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (current.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            logical.Add((current + line).Trim());
            current = string.Empty;
        }

        var stages = new List<Stage>();
        foreach (var line in logical)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var keyword = line[..space].ToUpperInvariant();
            var text = line[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
                var platform = parts[0].StartsWith("--platform=", StringComparison.Ordinal) ? parts[0]["--platform=".Length..] : null;
                parts.RemoveAll(part => part.StartsWith("--", StringComparison.Ordinal));
                var name = parts.Count == 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : string.Empty;
                stages.Add(new Stage(name, parts[0], platform, []));
                continue;
            }

            Assert.NotEmpty(stages);
            stages[^1].Instructions.Add(new Instruction(keyword, text, text.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        }

        return stages;
    }

    private sealed record Instruction(string Keyword, string Text, IReadOnlyList<string> Arguments);

    private sealed record Stage(string Name, string Image, string? Platform, List<Instruction> Instructions)
    {
        /// <summary>An exec-form (JSON array) ENTRYPOINT or CMD; the shell form would need a shell the chiseled image lacks.</summary>
        public IReadOnlyList<string> Exec(string keyword)
        {
            var instruction = Instructions.Last(i => i.Keyword == keyword);
            Assert.StartsWith("[", instruction.Text, StringComparison.Ordinal);
            return JsonSerializer.Deserialize<string[]>(instruction.Text)!;
        }
    }

    [GeneratedRegex(@"^\s*source (?:""\$\(dirname ""\$(?:0|\{BASH_SOURCE\[0\]\})""\)/(?<beside>[^""]+)""|(?<path>scripts/\S+))", RegexOptions.Multiline)]
    private static partial Regex SourcedFile();

    [GeneratedRegex(@"dotnet publish (?<project>\S+\.csproj)(?<arguments>[^&]*)")]
    private static partial Regex PublishCommand();

    [GeneratedRegex(@"^\s+(?<rid>linux-[a-z0-9]+)\)", RegexOptions.Multiline)]
    private static partial Regex RuntimeCase();

    [GeneratedRegex(@"\$(?:\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:/(?<pattern>[^/}]*)/(?<replacement>[^}]*))?\}|(?<name>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex Reference();
}
