using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// values.schema.json and <c>injector webhook</c> agree: boundary values of every value that reaches the webhook's
/// command line are rendered by Helm and the webhook is started, as a process, with the rendered arguments (the
/// Secret's certificate written where the Deployment mounts it). What the chart accepts, the webhook starts with; what
/// the chart refuses, the webhook refuses too, unless a row says why the chart is stricter. Rendered with the
/// certificate from files (<see cref="RenderedWebhook.BroughtSecret"/>).
/// </summary>
public sealed class WebhookArgsAgreementTests
{
    /// <summary>Accepted: chart and webhook accept it. Refused: both refuse it. StricterChart: the chart refuses what the webhook would take.</summary>
    public enum Verdict
    {
        Accepted,
        Refused,
        StricterChart,
    }

    /// <summary>
    /// The boundary values that the schema cannot list by itself (patterns, cross-value rules); integer ranges, enums and
    /// booleans of the command-line values are added from the schema. <paramref name="ProgramArgs"/> replaces rendered
    /// arguments for the webhook when the chart cannot render the value at all (a template guard refuses it).
    /// </summary>
    public sealed record Boundary(string Path, string Json, Verdict Verdict, string? Why = null, string[]? ProgramArgs = null, JsonObject? With = null)
    {
        public override string ToString() => $"{Path}={Json}{(With is null ? string.Empty : " with " + With.ToJsonString())} ({Verdict})";
    }

    public static readonly Boundary[] Written =
    [
        new("webhook.port", "1023", Verdict.StricterChart, "the webhook runs as non-root without capabilities: no port below 1024"),
        .. Strings("webhook.serviceAccountLookupTimeout", accepted: ["50ms", "10000ms", "1s", "10s"], refused: ["49ms", "10001ms", "11s", "1m"]),
        new("webhook.serviceAccountLookupTimeout", "\"1.5s\"", Verdict.StricterChart, "the schema's grammar is whole milliseconds or seconds"),
        .. Strings("sidecar.cpuRequest", accepted: ["250m", "0.5"], refused: ["-1"]),
        new("sidecar.cpuRequest", "\"1e3\"", Verdict.StricterChart, "exponent quantities are left out of the schema's pattern"),
        .. Strings("sidecar.memoryRequest", accepted: ["128Mi"], refused: []),
        new("sidecar.memoryRequest", "\"1Gi\"", Verdict.Accepted, With: ValueSets.Setting("sidecar.memoryLimit", "1024Mi")),
        new("sidecar.memoryRequest", "\"1G\"", Verdict.Accepted, With: ValueSets.Setting("sidecar.memoryLimit", "1Gi")),
        new("sidecar.memoryRequest", "\"129Mi\"", Verdict.Refused, ProgramArgs: ["--sidecar-memory-request=129Mi"]),
        new("sidecar.memoryRequest", "\"1Gi\"", Verdict.Refused, With: ValueSets.Setting("sidecar.memoryLimit", "1G"), ProgramArgs: ["--sidecar-memory-request=1Gi", "--sidecar-memory-limit=1G"]),
        .. Strings("sidecar.memoryLimit", accepted: ["64Gi"], refused: ["lots"]),
        .. Strings("image.repository", accepted: ["registry.example.com:5000/team/injector"], refused: ["ghcr.io/token injector"]),
        .. Strings("image.tag", accepted: ["1.2.3-rc.1_build"], refused: ["1.0 beta"]),
        .. Strings("image.digest", accepted: ["sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"], refused: []),
        new("image.digest", "\"latest\"", Verdict.StricterChart, "the webhook takes any image reference; a digest that is not one fails the pull"),
        .. Strings("sidecar.image.repository", accepted: ["mirror.example.com/injector"], refused: ["mirror example"]),
        .. Strings("sidecar.image.tag", accepted: ["2.0.0"], refused: ["2.0 0"]),
        .. Strings("sidecar.image.digest", accepted: ["sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"], refused: []),
        new("sidecar.image.digest", "\"sha256:short\"", Verdict.StricterChart, "the webhook takes any image reference; a digest that is not one fails the pull"),
    ];

    [Fact]
    public async Task EveryValueOnTheWebhooksCommandLine_HasAcceptedAndRefusedBoundaries()
    {
        var paths = await CommandLinePathsAsync();
        var boundaries = AllBoundaries(paths);

        Assert.Contains("webhook.serviceAccountLookupTimeout", paths);
        Assert.Contains("sidecar.memoryRequest", paths);
        Assert.All(paths, path =>
        {
            Assert.Contains(boundaries, b => b.Path == path && b.Verdict == Verdict.Accepted);
            if (ChartFiles.SchemaOf(path)!["type"]!.GetValue<string>() != "boolean")
            {
                Assert.Contains(boundaries, b => b.Path == path && b.Verdict != Verdict.Accepted);
            }
        });
    }

    [Fact]
    public async Task WhatTheChartAccepts_TheWebhookStartsWith()
    {
        var accepted = AllBoundaries(await CommandLinePathsAsync()).Where(b => b.Verdict == Verdict.Accepted).ToList();

        // Each run takes the next accepted value of every path, so a handful of webhook starts covers them all; a
        // refusal names the option, and the option names the value.
        var runs = accepted.GroupBy(b => b.Path).Max(g => g.Count());
        for (var run = 0; run < runs; run++)
        {
            var rows = accepted.GroupBy(b => b.Path).Select(g => g.ElementAtOrDefault(run)).OfType<Boundary>().ToList();
            var values = RenderedWebhook.Values([]);
            foreach (var row in rows)
            {
                values = ValueSets.Merge(values, ValueSets.Merge(row.With ?? [], ValueSets.Setting(row.Path, JsonNode.Parse(row.Json))));
            }

            if (!rows.Any(r => r.Path == "webhook.port"))
            {
                values = ValueSets.Merge(values, ValueSets.Setting("webhook.port", FreePort.Next()));
            }

            var rendering = await Helm.RenderAsync(values);
            var (started, output) = await StartWebhookAsync(rendering, rendering.WebhookArgs);
            Assert.True(started, $"the webhook refused what the chart rendered for {string.Join(", ", rows)}:\n{output}");
        }
    }

    [Fact]
    public async Task WhatTheChartRefuses_TheWebhookRefusesToo()
    {
        var defaults = await Helm.RenderAsync(RenderedWebhook.Values(ValueSets.Setting("webhook.port", FreePort.Next())));
        foreach (var row in AllBoundaries(await CommandLinePathsAsync()).Where(b => b.Verdict != Verdict.Accepted))
        {
            var values = ValueSets.Merge(row.With ?? [], ValueSets.Setting(row.Path, JsonNode.Parse(row.Json)));
            var chart = await Helm.TemplateAsync(4, values, Helm.CrdApis);
            Assert.True(chart.ExitCode != 0, $"the chart accepted {row}");
            if (row.Verdict == Verdict.StricterChart)
            {
                continue;
            }

            IReadOnlyList<string> args;
            if (row.ProgramArgs is { } replacements)
            {
                args = defaults.WebhookArgs.Select(a => replacements.FirstOrDefault(r => r[..r.IndexOf('=', StringComparison.Ordinal)] == a[..a.IndexOf('=', StringComparison.Ordinal)]) ?? a).ToList();
            }
            else
            {
                var port = row.Path == "webhook.port" ? new JsonObject() : ValueSets.Setting("webhook.port", FreePort.Next());
                var unvalidated = await Helm.TemplateAsync(4, RenderedWebhook.Values(ValueSets.Merge(values, port)), Helm.CrdApis, skipSchemaValidation: true);
                Assert.True(unvalidated.ExitCode == 0, $"{row}: {unvalidated.Stderr}");
                args = new Rendering(YamlJson.ParseAll(unvalidated.Stdout).OfType<JsonObject>().ToList()).WebhookArgs;
            }

            var (started, output) = await StartWebhookAsync(defaults, args);
            Assert.False(started, $"the webhook started with {row}, which the chart refuses: is the schema stricter than it needs to be?");
            Assert.Contains("injector webhook: error: --", output, StringComparison.Ordinal);
        }
    }

    /// <summary>Lifetimes of the default certificate.mode=selfManaged (caLifetime, servingLifetime, renewBefore) and whether chart and webhook take them.</summary>
    public static TheoryData<string, string, string, bool> SelfManagedLifetimes() => new()
    {
        { "8760h", "2160h", "720h", true },
        { "2m", "90s", "61s", true },
        { "87600h", "87600h", "86400000ms", true },
        { "2h", "1h", "1h", false },
        { "2h", "1h", "2h", false },
        { "59s", "1h", "30s", false },
        { "2h", "1h", "1000ms", false },
        { "2h", "59s", "30s", false },
        { "2h", "1h", "60s", false },
        { "87601h", "1h", "30m", false },
    };

    /// <summary>
    /// The default rendering's self-managed arguments agree with the webhook: the Secret is the one the Role names, the
    /// DNS names are the Service's, the configurations are the rendered ones, the lifetimes are the values; the webhook
    /// started with them keeps its certificate (<see cref="RenderedWebhook.StartAsync"/> waits for it) when the chart
    /// renders them, and refuses them, naming the flag, when the chart refuses them.
    /// </summary>
    [Theory]
    [MemberData(nameof(SelfManagedLifetimes))]
    public async Task SelfManagedArgs_AgreeWithTheRenderingAndTheWebhook(string caLifetime, string servingLifetime, string renewBefore, bool accepted)
    {
        var lifetimes = new JsonObject
        {
            ["certificate"] = new JsonObject { ["caLifetime"] = caLifetime, ["servingLifetime"] = servingLifetime, ["renewBefore"] = renewBefore },
            ["webhook"] = new JsonObject { ["port"] = FreePort.Next() },
        };
        var chart = await Helm.TemplateAsync(4, lifetimes, Helm.CrdApis);
        Assert.True((chart.ExitCode == 0) == accepted, $"the chart {(accepted ? "refused" : "accepted")} {lifetimes.ToJsonString()}: {chart.Stderr}");

        var rendering = accepted
            ? await Helm.RenderAsync(lifetimes)
            : await Helm.RenderAsync(ValueSets.Setting("webhook.port", FreePort.Next()));
        var args = rendering.WebhookArgs.Select(a => a.Split('=', 2)[0] switch
        {
            "--ca-lifetime" => "--ca-lifetime=" + caLifetime,
            "--serving-certificate-lifetime" => "--serving-certificate-lifetime=" + servingLifetime,
            "--renew-before" => "--renew-before=" + renewBefore,
            _ => a,
        }).ToList();
        Assert.Equal(rendering.WebhookArgs, accepted ? args : rendering.WebhookArgs);
        var service = Rendering.Name(rendering.Single("Service"));
        Assert.Equal(
            [service, $"{service}.{Helm.Namespace}", $"{service}.{Helm.Namespace}.svc", $"{service}.{Helm.Namespace}.svc.cluster.local"],
            args.Where(a => a.StartsWith("--tls-dns-name=", StringComparison.Ordinal)).Select(a => a.Split('=', 2)[1]));
        Assert.Equal(Rendering.Name(rendering.Single("MutatingWebhookConfiguration")), rendering.WebhookArg("mutating-webhook-configuration"));
        Assert.Equal(Rendering.Name(rendering.Single("ValidatingWebhookConfiguration")), rendering.WebhookArg("validating-webhook-configuration"));
        Assert.Contains(rendering.OfKind("Role").SelectMany(r => r["rules"]!.AsArray()), rule => rule!["resourceNames"]?.AsArray().Any(n => (string?)n == rendering.WebhookArg("tls-secret")) == true);

        var (started, output) = await StartWebhookAsync(rendering, args);
        Assert.True(started == accepted, $"the webhook {(accepted ? "refused" : "started with")} --ca-lifetime={caLifetime} --serving-certificate-lifetime={servingLifetime} --renew-before={renewBefore}:\n{output}");
        if (!accepted)
        {
            Assert.Contains("injector webhook: error: --", output, StringComparison.Ordinal);
        }
    }

    /// <summary>Rows for string values of <paramref name="path"/> that both the chart and the webhook accept, or both refuse.</summary>
    private static IEnumerable<Boundary> Strings(string path, string[] accepted, string[] refused) =>
        accepted.Select(value => new Boundary(path, JsonValue.Create(value).ToJsonString(), Verdict.Accepted))
            .Concat(refused.Select(value => new Boundary(path, JsonValue.Create(value).ToJsonString(), Verdict.Refused)));

    /// <summary>The values whose change changes the webhook's arguments (every one is changed by a value set).</summary>
    private static async Task<IReadOnlyList<string>> CommandLinePathsAsync()
    {
        var defaults = (await Helm.RenderAsync(RenderedWebhook.BroughtSecret)).WebhookArgs;
        var changed = ValueSets.All["every plain value changed"];
        var paths = new List<string>();
        foreach (var path in ValueSets.LeafPaths(ChartFiles.Values()))
        {
            if (ValueSets.At(changed, path) is { } value)
            {
                var args = (await Helm.RenderAsync(RenderedWebhook.Values(ValueSets.Setting(path, value.DeepClone())))).WebhookArgs;
                if (!args.SequenceEqual(defaults))
                {
                    paths.Add(path);
                }
            }
        }

        return paths;
    }

    /// <summary>The written boundaries, with each command-line integer's range ends (and one past them), enum values and booleans from the schema.</summary>
    private static List<Boundary> AllBoundaries(IEnumerable<string> paths)
    {
        var all = Written.ToList();
        foreach (var path in paths)
        {
            var schema = ChartFiles.SchemaOf(path)!;
            switch (schema["type"]!.GetValue<string>())
            {
                case "integer":
                    var min = schema["minimum"]!.GetValue<long>();
                    var max = schema["maximum"]!.GetValue<long>();
                    all.Add(new(path, min.ToString(System.Globalization.CultureInfo.InvariantCulture), Verdict.Accepted));
                    all.Add(new(path, max.ToString(System.Globalization.CultureInfo.InvariantCulture), Verdict.Accepted));
                    if (!all.Any(b => b.Path == path && b.Json == (min - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)))
                    {
                        all.Add(new(path, (min - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Verdict.Refused));
                    }

                    all.Add(new(path, (max + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Verdict.Refused));
                    break;
                case "boolean":
                    all.Add(new(path, "true", Verdict.Accepted));
                    all.Add(new(path, "false", Verdict.Accepted));
                    break;
                case "string" when schema["enum"] is JsonArray choices:
                    all.AddRange(choices.Select(c => new Boundary(path, c!.ToJsonString(), Verdict.Accepted)));
                    all.Add(new(path, "\"bogus\"", Verdict.Refused));
                    break;
            }
        }

        return all;
    }

    /// <summary>True when the webhook, run as the Deployment runs it with <paramref name="args"/>, listens; false, with what it printed, when it exits.</summary>
    private static async Task<(bool Started, string Output)> StartWebhookAsync(Rendering rendering, IReadOnlyList<string> args)
    {
        var (webhook, output) = await RenderedWebhook.StartAsync(rendering, args);
        if (webhook is null)
        {
            return (false, output);
        }

        await webhook.DisposeAsync();
        return (true, webhook.Output);
    }
}
