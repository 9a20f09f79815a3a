using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The chart under a real Helm binary: <c>helm template</c>, <c>helm lint --strict</c> and <c>helm install
/// --dry-run=client</c> (for NOTES.txt), with values given as a JSON file on top of values.yaml. Renders are cached
/// per Helm version and input, since many tests read the same one.
/// </summary>
internal static class Helm
{
    public const string Release = "ti";
    public const string Namespace = "token-injector";

    /// <summary>Every CRD kind a value can ask for, as a cluster with cert-manager and both monitoring stacks serves them.</summary>
    public static readonly string[] CrdApis =
    [
        "cert-manager.io/v1/Certificate", "cert-manager.io/v1/Issuer",
        "monitoring.coreos.com/v1/PodMonitor", "monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule",
        "monitoring.googleapis.com/v1/PodMonitoring", "monitoring.googleapis.com/v1/ClusterPodMonitoring",
        "monitoring.googleapis.com/v1/Rules", "monitoring.googleapis.com/v1/ClusterRules",
    ];

    public static readonly string Chart = RepositoryFiles.PathOf("charts", "token-injector");

    private static readonly ConcurrentDictionary<string, Task<HelmResult>> Renders = new();

    /// <summary>Renders the chart with Helm 4, every CRD kind served; fails the test when Helm refuses.</summary>
    public static Task<Rendering> RenderAsync(JsonObject? values = null, string release = Release, string @namespace = Namespace) =>
        RenderAsync(4, values, release, @namespace);

    public static async Task<Rendering> RenderAsync(int helmVersion, JsonObject? values, string release = Release, string @namespace = Namespace)
    {
        var result = await TemplateAsync(helmVersion, values, CrdApis, release, @namespace);
        Assert.True(result.ExitCode == 0, $"helm {helmVersion} template failed for {values?.ToJsonString() ?? "the defaults"}:\n{result.Stderr}");
        return new Rendering(YamlJson.ParseAll(result.Stdout).OfType<JsonObject>().ToList());
    }

    /// <summary><c>helm template</c>, whatever it answers (cached).</summary>
    public static Task<HelmResult> TemplateAsync(
        int helmVersion, JsonObject? values, IEnumerable<string> apiVersions, string release = Release, string @namespace = Namespace, bool skipSchemaValidation = false)
    {
        List<string> args = ["template", release, Chart, "--namespace", @namespace, .. apiVersions.SelectMany(api => new[] { "--api-versions", api })];
        if (skipSchemaValidation)
        {
            args.Add("--skip-schema-validation");
        }

        return RunAsync(helmVersion, args, values);
    }

    public static Task<HelmResult> LintAsync(int helmVersion, JsonObject? values) =>
        RunAsync(helmVersion, ["lint", "--strict", Chart], values);

    /// <summary>What <c>helm install --dry-run=client</c> prints after NOTES:, which helm template does not render.</summary>
    public static async Task<string> NotesAsync(JsonObject? values)
    {
        var result = await RunAsync(4, ["install", Release, Chart, "--namespace", Namespace, "--dry-run=client"], values);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var notes = result.Stdout.IndexOf("NOTES:\n", StringComparison.Ordinal);
        Assert.True(notes >= 0, "no NOTES in:\n" + result.Stdout);
        return result.Stdout[(notes + "NOTES:\n".Length)..];
    }

    /// <summary><c>helm template</c> run again, never from the cache: for comparing two renders of the same input.</summary>
    public static Task<HelmResult> TemplateAgainAsync(int helmVersion, JsonObject? values, string release = Release, string @namespace = Namespace) =>
        WithValuesAsync(helmVersion, ["template", release, Chart, "--namespace", @namespace], values);

    /// <summary>Runs Helm with <paramref name="args"/>, uncached, offline and with no cluster: its homes in a temporary directory, no kubeconfig.</summary>
    public static async Task<HelmResult> ExecAsync(int helmVersion, IEnumerable<string> args)
    {
        using var directory = new TempDirectory();

        // No kubeconfig: nothing here may reach a cluster, and Helm must not read one from the environment.
        var environment = new Dictionary<string, string>
        {
            ["KUBECONFIG"] = directory.File("no-kubeconfig"),
            ["HELM_CACHE_HOME"] = directory.File("cache"),
            ["HELM_CONFIG_HOME"] = directory.File("config"),
            ["HELM_DATA_HOME"] = directory.File("data"),
        };
        var (exitCode, stdout, stderr) = await ChildProcess.RunAsync(ChartTools.Helm(helmVersion), args, environment);
        return new HelmResult(exitCode, stdout, stderr);
    }

    private static Task<HelmResult> RunAsync(int helmVersion, List<string> args, JsonObject? values) =>
        Renders.GetOrAdd($"{helmVersion} {string.Join(' ', args)} {values?.ToJsonString() ?? "{}"}", _ => WithValuesAsync(helmVersion, args, values));

    private static async Task<HelmResult> WithValuesAsync(int helmVersion, List<string> args, JsonObject? values)
    {
        using var directory = new TempDirectory();
        var file = directory.File("values.json");
        await File.WriteAllTextAsync(file, values?.ToJsonString() ?? "{}");
        return await ExecAsync(helmVersion, [.. args, "--values", file]);
    }
}

internal sealed record HelmResult(int ExitCode, string Stdout, string Stderr);

/// <summary>The objects of one render, with look-ups by kind and name.</summary>
internal sealed class Rendering(IReadOnlyList<JsonObject> objects)
{
    public IReadOnlyList<JsonObject> Objects { get; } = objects;

    public IEnumerable<JsonObject> OfKind(string kind) => Objects.Where(o => Kind(o) == kind);

    public JsonObject Single(string kind) => Assert.Single(OfKind(kind));

    public JsonObject Single(string kind, string name) => Assert.Single(OfKind(kind), o => Name(o) == name);

    /// <summary>The webhook Deployment's one container.</summary>
    public JsonObject WebhookContainer =>
        Single("Deployment")["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Single()!.AsObject();

    /// <summary>The webhook's arguments after the word <c>webhook</c>, as <c>--name=value</c>.</summary>
    public IReadOnlyList<string> WebhookArgs =>
        WebhookContainer["args"]!.AsArray().Select(a => a!.GetValue<string>()).Skip(1).ToList();

    public string WebhookArg(string name) =>
        Assert.Single(WebhookArgs, a => a.StartsWith($"--{name}=", StringComparison.Ordinal))[(name.Length + 3)..];

    /// <summary>The objects helm test creates (test hooks), in the order Helm creates them.</summary>
    public IEnumerable<JsonObject> TestHooks => Objects.Where(o => o["metadata"]?["annotations"]?["helm.sh/hook"]?.GetValue<string>() == "test");

    public static string Kind(JsonObject o) => o["kind"]!.GetValue<string>();

    public static string Name(JsonObject o) => o["metadata"]!["name"]!.GetValue<string>();

    public static string? NamespaceOf(JsonObject o) => o["metadata"]!["namespace"]?.GetValue<string>();
}
