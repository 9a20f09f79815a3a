using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The chart as a dependency: an umbrella chart that lists it (a file:// repository, so <c>helm dependency build</c>
/// runs offline) and sets globals, as umbrella charts do, builds, lints strictly and renders with real Helm 3 and 4,
/// installed into the namespace default.
/// </summary>
public sealed class UmbrellaChartTests
{
    public static TheoryData<int> HelmVersions() => new(ChartTools.HelmVersions);

    [Theory]
    [MemberData(nameof(HelmVersions))]
    public async Task AnUmbrellaChartWithGlobals_BuildsOfflineLintsAndRendersIntoDefault(int helmVersion)
    {
        using var directory = new TempDirectory();
        var umbrella = directory.File("platform");
        Directory.CreateDirectory(Path.Combine(umbrella, "templates"));
        var version = YamlJson.Parse(await File.ReadAllTextAsync(Path.Combine(Helm.Chart, "Chart.yaml")))!["version"]!.GetValue<string>();
        await File.WriteAllTextAsync(Path.Combine(umbrella, "Chart.yaml"), $"""
            apiVersion: v2
            name: platform
            version: 1.0.0
            dependencies:
              - name: token-injector
                version: "{version}"
                repository: "file://{Helm.Chart}"
            """);
        await File.WriteAllTextAsync(Path.Combine(umbrella, "values.yaml"), """
            global:
              imageRegistry: registry.example.com
              labels: {team: platform}
            token-injector:
              webhook:
                replicas: 3
            """);

        var build = await Helm.ExecAsync(helmVersion, ["dependency", "build", umbrella, "--skip-refresh"]);
        Assert.True(build.ExitCode == 0, $"helm {helmVersion} dependency build:\n{build.Stdout}{build.Stderr}");
        var lint = await Helm.ExecAsync(helmVersion, ["lint", "--strict", umbrella, "--namespace", "default"]);
        var template = await Helm.ExecAsync(helmVersion, ["template", "platform", umbrella, "--namespace", "default"]);

        Assert.True(lint.ExitCode == 0, $"helm {helmVersion} lint --strict:\n{lint.Stdout}{lint.Stderr}");
        Assert.True(template.ExitCode == 0, $"helm {helmVersion} template:\n{template.Stderr}");
        var rendering = new Rendering(YamlJson.ParseAll(template.Stdout).OfType<JsonObject>().ToList());
        var deployment = rendering.Single("Deployment", "platform-token-injector-webhook");
        Assert.Equal("default", Rendering.NamespaceOf(deployment));
        Assert.Equal(3, deployment["spec"]!["replicas"]!.GetValue<long>());
        Assert.Single(rendering.OfKind("MutatingWebhookConfiguration"));
        Assert.Equal("kube-public", Rendering.NamespaceOf(Assert.Single(rendering.TestHooks, h => Rendering.Kind(h) == "Role")));
    }
}
