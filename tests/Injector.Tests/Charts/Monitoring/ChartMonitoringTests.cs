using System.Globalization;
using System.Text.Json.Nodes;
using TokenInjector.Demo.Observing;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts.Monitoring;

/// <summary>Starts the <see cref="MonitoredStack"/> once for the monitoring tests.</summary>
public sealed class MonitoredStackFixture : IAsyncLifetime
{
    internal MonitoredStack Stack { get; private set; } = null!;

    public async Task InitializeAsync() => Stack = await MonitoredStack.StartAsync();

    public async Task DisposeAsync() => await Stack.DisposeAsync();
}

/// <summary>
/// The chart's dashboard and alerts against real metrics: a real Prometheus scrapes a running sidecar and webhook and
/// answers every dashboard query; promtool tests every alert on series whose names and labels are read from the
/// running processes' /metrics, so an alert cannot name a metric or label value the program does not expose.
/// </summary>
public sealed class ChartMonitoringTests(MonitoredStackFixture fixture) : IClassFixture<MonitoredStackFixture>
{
    /// <summary>Stands in for Grafana's $__rate_interval: long enough to hold a token refresh of the stack's 12 s tokens.</summary>
    private const string RateInterval = "20s";

    private static readonly JsonObject WithMonitoring = ValueSets.All["Prometheus Operator and the Grafana dashboard"];

    private MonitoredStack Stack => fixture.Stack;

    [Fact]
    public async Task Dashboard_EveryQueryReturnsDataFromALiveSidecarAndWebhook()
    {
        var map = (await Helm.RenderAsync(WithMonitoring)).Single("ConfigMap");
        var dashboard = JsonNode.Parse(map["data"]!["token-injector.json"]!.GetValue<string>())!;
        var queries = DashboardQueries(dashboard).ToList();
        using var prometheus = await PrometheusServer.StartAsync(ScrapeConfiguration(), new Dictionary<string, string> { ["webhook-ca.crt"] = Stack.WebhookCaPem });

        var empty = queries;
        await TestWait.PollAsync(async () =>
        {
            var still = new List<string>();
            foreach (var query in queries)
            {
                var result = await prometheus.QueryAsync(query);
                if (!result.Any(sample => double.IsFinite(double.Parse(sample!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture))))
                {
                    still.Add(query);
                }
            }

            empty = still;
            return empty.Count == 0;
        }, TimeSpan.FromSeconds(1));

        Assert.True(queries.Count >= 15, $"only {queries.Count} queries found in the dashboard");
        Assert.True(empty.Count == 0, "no data for:\n" + string.Join('\n', empty) + "\nPrometheus:\n" + prometheus.Output);
    }

    [Fact]
    public async Task Alerts_EachFiresOnSeriesReadFromLiveMetricsAndStaysQuietOnHealthyOnes()
    {
        var rules = (await Helm.RenderAsync(WithMonitoring)).Single("PrometheusRule")["spec"]!;
        var samples = await Stack.ScrapeAsync();
        var cases = AlertCases();
        var alerts = rules["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).Where(r => r!["alert"] is not null).ToList();

        Assert.Equal(alerts.Select(a => a!["alert"]!.GetValue<string>()).Order(), cases.Select(c => c.Alert).Order());
        var tests = new JsonArray();
        foreach (var alert in cases)
        {
            var severity = alerts.Single(a => a!["alert"]!.GetValue<string>() == alert.Alert)!["labels"]!["severity"]!.GetValue<string>();
            var firing = alert.Firing.Select(s => s.Resolve(samples)).ToList();
            var expected = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["__name__"] = "ALERTS",
                ["alertname"] = alert.Alert,
                ["alertstate"] = "firing",
                ["severity"] = severity,
            };
            foreach (var label in alert.Labels)
            {
                expected[label] = firing[0].Labels[label];
            }

            tests.Add(PromtoolTest(alert.Alert, firing, alert.EvalTime, [Series.Text(expected)]));
            tests.Add(PromtoolTest(alert.Alert, alert.Quiet.Select(s => s.Resolve(samples)).ToList(), alert.EvalTime, []));
        }

        using var directory = new TempDirectory();
        await File.WriteAllTextAsync(directory.File("alerts.yaml"), rules.ToJsonString());
        var test = new JsonObject { ["rule_files"] = new JsonArray("alerts.yaml"), ["evaluation_interval"] = "1m", ["tests"] = tests };
        await File.WriteAllTextAsync(directory.File("alerts-test.yaml"), test.ToJsonString());

        var check = await ChildProcess.RunAsync(ChartTools.Promtool, ["check", "rules", directory.File("alerts.yaml")]);
        var run = await ChildProcess.RunAsync(ChartTools.Promtool, ["test", "rules", directory.File("alerts-test.yaml")]);

        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.True(run.ExitCode == 0, $"{run.Stdout}{run.Stderr}\ntest file:\n{test.ToJsonString()}");
    }

    /// <summary>
    /// Per alert: series that make it fire by the evaluation time and series that keep it quiet, each picked from the live
    /// /metrics by name and labels, and the labels the alert carries (taken from the first firing series). Two alerts read
    /// series no process here exports, given with their labels (<see cref="Series.Given"/>): the API server's webhook
    /// counters, and the webhook's certificate expiry (which the self-managed certificate brings).
    /// </summary>
    private List<AlertCase> AlertCases()
    {
        var route = Stack.CloudRun.RoutePort.ToString(CultureInfo.InvariantCulture);
        var failing = Stack.FailingRoute.ToString(CultureInfo.InvariantCulture);
        var rejected = Stack.RejectedRoute.ToString(CultureInfo.InvariantCulture);
        static bool Audience(IReadOnlyDictionary<string, string> l) => l["audience"] == CloudRunStack.ServiceUrl;
        static bool ServerError(IReadOnlyDictionary<string, string> l) => l["code"] is "UNAVAILABLE" || l["code"].StartsWith('5');
        return
        [
            new("TokenInjectorTokenExpiringWithoutRefresh", "8m", ["namespace", "pod", "audience"],
                [new("token_injector_token_expiry_timestamp_seconds", Audience, "600x20"), new("token_injector_token_refresh_total", l => Audience(l) && l["result"] == "success", "1x20")],
                [new("token_injector_token_expiry_timestamp_seconds", Audience, "600x20"), new("token_injector_token_refresh_total", l => Audience(l) && l["result"] == "success", "1+1x20")]),
            new("TokenInjectorTokenRefreshErrors", "16m", ["namespace", "pod", "reason"],
                [new("token_injector_token_fetch_errors_total", l => l["reason"] is not ("unreachable" or "timeout"), "0+6x30")],
                [new("token_injector_token_fetch_errors_total", l => l["reason"] is not ("unreachable" or "timeout"), "6x30")]),
            new("TokenInjectorTokenSourceUnreachable", "10m", ["namespace", "pod"],
                [new("token_injector_token_fetch_errors_total", l => l["reason"] == "unreachable", "0+6x20")],
                [new("token_injector_token_fetch_errors_total", l => l["reason"] == "unreachable", "6x20")]),
            new("TokenInjectorProxiedCallsFailing", "16m", ["namespace", "pod", "route"],
                [new("token_injector_proxy_requests_total", l => l["route"] == failing && ServerError(l), "0+6x30")],
                [new("token_injector_proxy_requests_total", l => l["route"] == route && !ServerError(l), "0+6x30")]),
            new("TokenInjectorCallsRejectedUpstream", "10m", ["namespace", "pod", "route", "code"],
                [new("token_injector_proxy_requests_total", l => l["route"] == rejected && l["code"] == "401", "0+6x20")],
                [new("token_injector_proxy_requests_total", l => l["route"] == route, "0+6x20")]),
            new("TokenInjectorWebhookAdmissionErrors", "10m", ["namespace", "result"],
                [new("token_injector_webhook_admissions_total", l => l["result"] == "denied", "0+6x20")],
                [new("token_injector_webhook_admissions_total", l => l["result"] == "mutated", "0+6x20")]),
            new("TokenInjectorWebhookSlow", "16m", ["namespace"],
                [new("token_injector_webhook_admission_duration_seconds_bucket", _ => true, "0+10x30", Every: true, Flat: l => l["le"] != "+Inf" && double.Parse(l["le"], CultureInfo.InvariantCulture) <= 1)],
                [new("token_injector_webhook_admission_duration_seconds_bucket", _ => true, "0+10x30", Every: true)]),

            // promtool starts at time 0: at 20m, 3 days left fires and 30 days (the renewal point) does not.
            new("TokenInjectorWebhookCertificateExpiring", "20m", ["namespace", "pod"],
                [Series.Given("token_injector_webhook_certificate_expiry_timestamp_seconds", WebhookTarget(), "260400x30")],
                [Series.Given("token_injector_webhook_certificate_expiry_timestamp_seconds", WebhookTarget(), "2593200x30")]),
            new("TokenInjectorWebhookUnreachable", "10m", ["name"],
                [Series.Given("apiserver_admission_webhook_rejection_count", ApiServer("inject.token-injector.dev", "calling_webhook_error"), "0+6x20")],
                [
                    Series.Given("apiserver_admission_webhook_rejection_count", ApiServer("inject.token-injector.dev", "no_error"), "0+6x20"),
                    Series.Given("apiserver_admission_webhook_fail_open_count", ApiServer("policy.example.com", null), "0+6x20"),
                ]),
        ];
    }

    /// <summary>The labels Prometheus puts on the webhook's series.</summary>
    private Dictionary<string, string> WebhookTarget() =>
        new() { ["namespace"] = Helm.Namespace, ["pod"] = Stack.Targets.Single(t => t.IsWebhook).Pod, ["job"] = "webhook" };

    /// <summary>A series of the API server's admission metrics for webhook <paramref name="name"/> (rejections carry an error type).</summary>
    private static Dictionary<string, string> ApiServer(string name, string? errorType)
    {
        var labels = new Dictionary<string, string> { ["job"] = "apiserver", ["name"] = name, ["type"] = "admit", ["operation"] = "CREATE" };
        if (errorType is not null)
        {
            labels["error_type"] = errorType;
            labels["rejection_code"] = errorType == "no_error" ? "400" : "500";
        }

        return labels;
    }

    private static JsonObject PromtoolTest(string alert, List<ResolvedSeries> series, string evalTime, string[] expected) => new()
    {
        ["interval"] = "1m",
        ["input_series"] = new JsonArray(series.SelectMany(s => s.Inputs).ToArray()),
        ["promql_expr_test"] = new JsonArray(new JsonObject
        {
            ["expr"] = $"ALERTS{{alertname=\"{alert}\",alertstate=\"firing\"}}",
            ["eval_time"] = evalTime,
            ["exp_samples"] = new JsonArray(expected.Select(labels => (JsonNode)new JsonObject { ["labels"] = labels, ["value"] = 1 }).ToArray()),
        }),
    };

    /// <summary>Scrapes every 1 s, labelling the targets as Prometheus Operator and Managed Service for Prometheus do (namespace, pod).</summary>
    private string ScrapeConfiguration()
    {
        JsonObject Target(string address, string @namespace, string pod) =>
            new() { ["targets"] = new JsonArray(address), ["labels"] = new JsonObject { ["namespace"] = @namespace, ["pod"] = pod } };
        var webhook = Stack.Targets.Single(t => t.IsWebhook);
        var configuration = new JsonObject
        {
            ["global"] = new JsonObject { ["scrape_interval"] = "1s", ["scrape_timeout"] = "1s", ["evaluation_interval"] = "1s" },
            ["scrape_configs"] = new JsonArray(
                new JsonObject
                {
                    ["job_name"] = "sidecars",
                    ["static_configs"] = new JsonArray(Stack.Targets.Where(t => !t.IsWebhook).Select(t => (JsonNode)Target(t.Address, MonitoredStack.SidecarNamespace, t.Pod)).ToArray()),
                },
                new JsonObject
                {
                    ["job_name"] = "webhook",
                    ["scheme"] = "https",
                    ["tls_config"] = new JsonObject { ["ca_file"] = "webhook-ca.crt", ["server_name"] = Stack.WebhookServerName },
                    ["static_configs"] = new JsonArray(Target(webhook.Address, Helm.Namespace, webhook.Pod)),
                }),
        };
        return configuration.ToJsonString();
    }

    /// <summary>Every query of the dashboard (panels, rows' panels, template variables), with Grafana's variables filled in.</summary>
    private static IEnumerable<string> DashboardQueries(JsonNode dashboard)
    {
        IEnumerable<JsonNode> Panels(JsonNode? panels) => panels?.AsArray().SelectMany(p => new[] { p! }.Concat(Panels(p!["panels"]))) ?? [];
        var targets = Panels(dashboard["panels"]).SelectMany(p => p["targets"]?.AsArray() ?? []).Select(t => t!["expr"]!.GetValue<string>());
        var variables = dashboard["templating"]!["list"]!.AsArray().Where(v => v!["type"]!.GetValue<string>() == "query")
            .Select(v => v!["query"]!["query"]!.GetValue<string>())
            .Select(q => System.Text.RegularExpressions.Regex.Replace(q, @"^label_values\((?<metric>.+), (?<label>\w+)\)$", "count by (${label}) (${metric})"));
        return targets.Concat(variables).Select(q => q
            .Replace("$__rate_interval", RateInterval, StringComparison.Ordinal)
            .Replace("$namespace", ".*", StringComparison.Ordinal)
            .Replace("$pod", ".*", StringComparison.Ordinal));
    }

    private sealed record AlertCase(string Alert, string EvalTime, string[] Labels, Series[] Firing, Series[] Quiet);

    /// <summary>
    /// A series of the live /metrics: the first sample named <paramref name="Metric"/> whose labels satisfy
    /// <paramref name="Match"/> (with <paramref name="Every"/>, all of them), given <paramref name="Values"/> in
    /// promtool's notation, or a flat zero where <paramref name="Flat"/> holds.
    /// </summary>
    private sealed record Series(string Metric, Func<IReadOnlyDictionary<string, string>, bool> Match, string Values, bool Every = false, Func<IReadOnlyDictionary<string, string>, bool>? Flat = null)
    {
        /// <summary>Labels given here instead of read from /metrics, for series of programs the stack does not run.</summary>
        private IReadOnlyDictionary<string, string>? Labels { get; init; }

        public static Series Given(string metric, IReadOnlyDictionary<string, string> labels, string values) =>
            new(metric, _ => true, values) { Labels = labels };

        public ResolvedSeries Resolve(IReadOnlyList<(string Pod, bool IsWebhook, MetricSample Sample)> samples)
        {
            if (Labels is { } given)
            {
                var labels = new SortedDictionary<string, string>(given.ToDictionary(), StringComparer.Ordinal) { ["__name__"] = Metric };
                return new ResolvedSeries(labels, [new JsonObject { ["series"] = Text(labels), ["values"] = Values }]);
            }

            var found = samples.Where(s => s.Sample.Name == Metric && Match(s.Sample.Labels)).ToList();
            Assert.True(found.Count > 0, $"no series {Metric} with the labels asked for on the running processes' /metrics");
            var picked = Every ? found : [found[0]];
            var labelled = picked.Select(s =>
            {
                // The target labels Prometheus (Operator or Managed Service) adds to every scraped series.
                var labels = new SortedDictionary<string, string>(s.Sample.Labels.ToDictionary(), StringComparer.Ordinal)
                {
                    ["__name__"] = s.Sample.Name,
                    ["namespace"] = s.IsWebhook ? Helm.Namespace : MonitoredStack.SidecarNamespace,
                    ["pod"] = s.Pod,
                    ["job"] = s.IsWebhook ? "webhook" : "sidecars",
                };
                return (Labels: labels, Values: Flat?.Invoke(s.Sample.Labels) == true ? "0x30" : Values);
            }).ToList();
            return new ResolvedSeries(labelled[0].Labels, labelled.Select(l => (JsonNode)new JsonObject { ["series"] = Text(l.Labels), ["values"] = l.Values }).ToList());
        }

        public static string Text(IReadOnlyDictionary<string, string> labels) =>
            "{" + string.Join(", ", labels.Select(l => $"{l.Key}=\"{l.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"")) + "}";
    }

    private sealed record ResolvedSeries(IReadOnlyDictionary<string, string> Labels, List<JsonNode> Inputs);
}
