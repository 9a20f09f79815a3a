using System.Text.RegularExpressions;
using TokenInjector.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace TokenInjector.Tests.Packaging;

/// <summary>
/// The release (<c>.github/workflows/release.yml</c>), the chart and the README's install commands agree: a version
/// tag publishes the image at the chart's appVersion, which is its version, for the platforms the README builds, and
/// the chart at that version where the README installs it from; the chart's default image is the one released; the
/// build-your-own commands push the tag the chart pulls by default. The workflow's tag check runs for real in bash.
/// </summary>
public sealed partial class ReleaseTests
{
    private static readonly YamlMappingNode Workflow = LoadYaml(".github", "workflows", "release.yml");
    private static readonly YamlMappingNode Chart = LoadYaml("charts", "token-injector", "Chart.yaml");
    private static readonly YamlMappingNode Values = LoadYaml("charts", "token-injector", "values.yaml");
    private static readonly string Readme = File.ReadAllText(RepositoryFiles.PathOf("README.md"));

    private static string ChartVersion => Scalar(Chart, "version");

    [Fact]
    public void ChartVersion_IsItsAppVersion_AndTheDefaultImageIsTheReleasedOneAtThatVersion()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", ChartVersion);
        Assert.Equal(ChartVersion, Scalar(Chart, "appVersion"));
        Assert.Equal(Env("IMAGE"), Scalar(Values, "image", "repository"));
        Assert.Equal(string.Empty, Scalar(Values, "image", "tag"));
        Assert.Equal(string.Empty, Scalar(Values, "image", "digest"));
        Assert.Equal(Env("CHART"), "charts/" + Scalar(Chart, "name"));
    }

    [Fact]
    public async Task TagCheck_PassesTheChartsVersionOn_AndStopsATagOfAnotherVersion()
    {
        var (released, output) = await RunTagCheckAsync("v" + ChartVersion);
        var (refused, _) = await RunTagCheckAsync("v" + ChartVersion + "1");

        Assert.Equal(0, released.ExitCode);
        Assert.Equal($"version={ChartVersion}\n", output);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"has version '{ChartVersion}', not '{ChartVersion}1'", refused.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Workflow_OnAVersionTag_PushesBothImagesForBothPlatforms_ThenTheChartAtTheVersion()
    {
        var trigger = (YamlSequenceNode)Node(Workflow, "on", "push", "tags");
        var steps = ((YamlSequenceNode)Node(Workflow, "jobs", "release", "steps")).Cast<YamlMappingNode>().ToList();
        var builds = steps.Where(s => Optional(s, "uses")?.StartsWith("docker/build-push-action@", StringComparison.Ordinal) == true).ToList();
        const string Version = "${{ steps.version.outputs.version }}";

        Assert.Equal(["v*"], trigger.Select(t => ((YamlScalarNode)t).Value));
        Assert.Equal("linux/amd64,linux/arm64", Env("PLATFORMS"));
        Assert.Equal(["injector", "sample-workload"], builds.Select(b => Scalar(b, "with", "target")));
        Assert.All(builds, b =>
        {
            Assert.Equal("${{ env.PLATFORMS }}", Scalar(b, "with", "platforms"));
            Assert.Equal("true", Scalar(b, "with", "push"));
        });
        Assert.Equal($"${{{{ env.IMAGE }}}}:{Version}", Scalar(builds[0], "with", "tags"));
        Assert.Contains($"${{{{ env.SAMPLE_IMAGE }}}}:{Version}", Scalar(builds[1], "with", "tags").Split('\n'));
        var chart = steps.Last();
        Assert.Equal(Version, Scalar(chart, "env", "VERSION"));
        Assert.Contains($"helm push \"dist/{Scalar(Chart, "name")}-$VERSION.tgz\" \"$CHART_REPOSITORY\"", Scalar(chart, "run"), StringComparison.Ordinal);
        Assert.True(steps.IndexOf(chart) > steps.IndexOf(builds[^1]), "the chart is pushed after the images it refers to");
    }

    [Fact]
    public void Workflow_PublishesOnlyAfterTheDefaultTestSuitePasses()
    {
        var test = ((YamlSequenceNode)Node(Workflow, "jobs", "test", "steps")).Cast<YamlMappingNode>().ToList();

        Assert.Equal("test", Scalar(Workflow, "jobs", "release", "needs"));
        Assert.Equal("scripts/test", Scalar(test.Last(), "run"));
        Assert.Equal("global.json", Scalar(test.Single(s => Optional(s, "uses")?.StartsWith("actions/setup-dotnet@", StringComparison.Ordinal) == true), "with", "global-json-file"));
    }

    [Fact]
    public void Workflow_SignsTheImagesAndTheChartByDigestKeyless_AndAttachesSboms()
    {
        var steps = ((YamlSequenceNode)Node(Workflow, "jobs", "release", "steps")).Cast<YamlMappingNode>().ToList();
        var builds = steps.Where(s => Optional(s, "uses")?.StartsWith("docker/build-push-action@", StringComparison.Ordinal) == true).ToList();
        var signing = steps.Single(s => Optional(s, "run")?.Contains("cosign sign --yes \"$INJECTOR\"", StringComparison.Ordinal) == true);
        var sboms = steps.Where(s => Optional(s, "uses")?.StartsWith("anchore/sbom-action@", StringComparison.Ordinal) == true).ToList();

        Assert.Equal("write", Scalar(Workflow, "jobs", "release", "permissions", "id-token"));
        Assert.False(((YamlMappingNode)Workflow["permissions"]).Children.ContainsKey("id-token"), "only the release job may mint OIDC tokens");
        Assert.All(builds, b => Assert.Equal("true", Scalar(b, "with", "sbom")));
        Assert.Equal("${{ env.IMAGE }}@${{ steps.injector.outputs.digest }}", Scalar(signing, "env", "INJECTOR"));
        Assert.Equal("${{ env.SAMPLE_IMAGE }}@${{ steps.sample.outputs.digest }}", Scalar(signing, "env", "SAMPLE"));
        Assert.Equal(["injector", "sample"], builds.Select(b => Scalar(b, "id")));
        foreach (var (sbom, image) in sboms.Zip(new[] { "$INJECTOR", "$SAMPLE" }))
        {
            Assert.Contains($"cosign attest --yes --type spdxjson --predicate {Scalar(sbom, "with", "output-file")} \"{image}\"", Scalar(signing, "run"), StringComparison.Ordinal);
        }

        Assert.True(steps.IndexOf(signing) > steps.IndexOf(builds[^1]) && steps.IndexOf(signing) > steps.IndexOf(sboms[^1]));
        Assert.Contains("cosign sign --yes \"${CHART_REPOSITORY#oci://}/token-injector@$digest\"", Scalar(steps.Last(), "run"), StringComparison.Ordinal);
        Assert.Contains(steps, s => Optional(s, "uses")?.StartsWith("sigstore/cosign-installer@", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void Workflows_PinEveryActionToAFullVersion()
    {
        foreach (var file in Directory.GetFiles(RepositoryFiles.PathOf(".github", "workflows"), "*.yml"))
        {
            var uses = PinnedAction().Matches(File.ReadAllText(file)).Select(m => m.Groups["ref"].Value).ToList();

            Assert.NotEmpty(uses);
            Assert.All(uses, reference => Assert.Matches(@"^v\d+\.\d+\.\d+$", reference));
        }
    }

    [Fact]
    public void ReadmeInstall_FromTheRelease_NamesTheChartsRepositoryAndVersion()
    {
        var install = Assert.Single(ReleaseInstall().Matches(Readme));

        Assert.Equal($"{Env("CHART_REPOSITORY")}/{Scalar(Chart, "name")}", install.Groups["chart"].Value);
        Assert.Equal(ChartVersion, install.Groups["version"].Value);
    }

    [Fact]
    public void BuildYourOwn_PushesBothPlatforms_AtTheAppVersion_ToTheRepositoryTheChartIsPointedAt()
    {
        var build = Assert.Single(BuildxCommand().Matches(Readme));
        var install = Assert.Single(LocalInstall().Matches(Readme));

        Assert.Equal(Env("PLATFORMS"), build.Groups["platforms"].Value);
        Assert.Equal(Scalar(Chart, "appVersion"), build.Groups["tag"].Value);
        Assert.Equal(build.Groups["repository"].Value, install.Groups["repository"].Value);
    }

    [Fact]
    public void DockerfileBuildxCommands_BuildThePlatformsOfTheRelease()
    {
        var commands = BuildxCommand().Matches(File.ReadAllText(RepositoryFiles.PathOf("Dockerfile")));

        Assert.NotEmpty(commands);
        Assert.All(commands, c => Assert.Equal(Env("PLATFORMS"), c.Groups["platforms"].Value));
    }

    /// <summary>The workflow's "version" step as GitHub's runner runs it (bash -eo pipefail), for the tag given.</summary>
    private static async Task<((int ExitCode, string Stdout, string Stderr) Result, string Output)> RunTagCheckAsync(string tag)
    {
        var step = ((YamlSequenceNode)Node(Workflow, "jobs", "release", "steps")).Cast<YamlMappingNode>().Single(s => Optional(s, "id") == "version");
        using var directory = new TempDirectory();
        var output = directory.File("github-output");
        await File.WriteAllTextAsync(output, string.Empty);
        var environment = ((YamlMappingNode)Workflow["env"]).ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ((YamlScalarNode)e.Value).Value!);
        environment["GITHUB_REF_NAME"] = tag;
        environment["GITHUB_OUTPUT"] = output;

        var result = await ChildProcess.RunAsync(
            "bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", $"cd '{RepositoryFiles.Root}' && {Scalar(step, "run")}"], environment);
        return (result, await File.ReadAllTextAsync(output));
    }

    private static string Env(string name) => Scalar(Workflow, "env", name);

    private static YamlMappingNode LoadYaml(params string[] path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(RepositoryFiles.PathOf(path))));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlNode Node(YamlMappingNode root, params string[] path)
    {
        YamlNode node = root;
        foreach (var key in path)
        {
            Assert.True(node is YamlMappingNode map && map.Children.ContainsKey(key), $"no '{key}' in {string.Join('.', path)}");
            node = ((YamlMappingNode)node)[key];
        }

        return node;
    }

    private static string Scalar(YamlMappingNode root, params string[] path) =>
        Assert.IsType<YamlScalarNode>(Node(root, path)).Value!.TrimEnd('\n');

    private static string? Optional(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) ? ((YamlScalarNode)value).Value : null;

    [GeneratedRegex(@"uses: *[^@\s]+@(?<ref>\S+)")]
    private static partial Regex PinnedAction();

    [GeneratedRegex(@"^helm install token-injector (?<chart>oci://\S+) --version (?<version>\S+) ", RegexOptions.Multiline)]
    private static partial Regex ReleaseInstall();

    [GeneratedRegex(@"docker buildx build --platform (?<platforms>\S+) (?:--target \S+ )?-t (?<repository>[^\s:]+):(?<tag>\S+) --push \.$", RegexOptions.Multiline)]
    private static partial Regex BuildxCommand();

    [GeneratedRegex(@"^helm install token-injector charts/token-injector .*--set image\.repository=(?<repository>\S+)$", RegexOptions.Multiline)]
    private static partial Regex LocalInstall();
}
