using System.Globalization;
using System.Text.Json;
using TokenInjector.Tests.Charts;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// The sidecar's defaults have one source, the webhook's <c>--sidecar-*</c> flags (<see cref="SidecarDefaults.From"/>):
/// the chart's values repeat them, and a memory request above its limit is refused by one rule whether the flags or a
/// pod's annotations set the two.
/// </summary>
public sealed class SidecarDefaultsTests
{
    [Fact]
    public void From_NoSidecarFlags_GivesWhatTheChartsValuesPass()
    {
        var defaults = PodMutatorGoldenTests.FromFlags("--sidecar-image=injector:test");
        var sidecar = ChartFiles.Values()["sidecar"]!;

        Assert.Equal(
            new
            {
                PullPolicy = (string)sidecar["image"]!["pullPolicy"]!,
                CpuRequest = (string)sidecar["cpuRequest"]!,
                MemoryRequest = (string)sidecar["memoryRequest"]!,
                MemoryLimit = (string)sidecar["memoryLimit"]!,
                AdminPort = int.Parse(sidecar["adminPort"]!.ToJsonString(), CultureInfo.InvariantCulture),
                LogFormat = (string)sidecar["logFormat"]!,
                PrometheusScrape = (bool)sidecar["prometheusScrape"]!,
            },
            new
            {
                PullPolicy = defaults.ImagePullPolicy,
                defaults.CpuRequest,
                defaults.MemoryRequest,
                defaults.MemoryLimit,
                defaults.AdminPort,
                defaults.LogFormat,
                defaults.PrometheusScrape,
            });
    }

    public static TheoryData<string, string, string, bool> RequestsAndLimits => new()
    {
        { "equal", "128Mi", "128Mi", false },
        { "below", "48Mi", "128Mi", false },
        { "above", "129Mi", "128Mi", true },
        { "binary above decimal", "1Gi", "1G", true },
        { "decimal below binary", "1G", "1Gi", false },
        { "fractions", "0.5Gi", "512Mi", false },
        { "exponent", "2e9", "1Gi", true },
        { "request not a quantity: told on its own", "lots", "1Gi", false },
        { "limit not a quantity: told on its own", "1Gi", "much", false },
    };

    [Theory]
    [MemberData(nameof(RequestsAndLimits))]
    public void RequestAboveLimit_IsTheSameRuleForFlagsAndAnnotations(string name, string request, string limit, bool refused)
    {
        Assert.Equal(refused, QuantityRules.RequestExceedsLimit(request, limit));

        var flags = WebhookSettings.Command.Parse(["--sidecar-image=injector:test", "--sidecar-memory-request=" + request, "--sidecar-memory-limit=" + limit], _ => null);
        SidecarDefaults.From(flags);
        Assert.True(refused == flags.Errors.Any(e => e.Contains("is more than --sidecar-memory-limit", StringComparison.Ordinal)), $"{name}: {string.Join("; ", flags.Errors)}");

        var pod = JsonSerializer.Deserialize<JsonElement>($$$"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"token-injector.dev/audiences":"https://a.run.app",
            "token-injector.dev/memory-request":"{{{request}}}","token-injector.dev/memory-limit":"{{{limit}}}"}},
            "spec":{"containers":[{"name":"app","image":"app:1"}]}}
            """);
        var decision = PodAdmission.Decide(pod, PodMutatorGoldenTests.Defaults);
        Assert.True(refused == (decision.Message?.Contains("is more than the memory limit", StringComparison.Ordinal) ?? false), $"{name}: {decision.Message}");
    }
}
