using System.Diagnostics;
using TokenInjector.Tests.Support;
using TokenInjector.Tests.Webhook;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// The Kubernetes API server down (connections refused) or hanging (accepts, never answers) while pods are admitted:
/// the Workload Identity look-up is advice only, so every pod is still mutated and answered within the API server's
/// webhook timeout, the look-up's own limit (2 s by default) bounding the wait.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class WebhookApiServerFaultTests
{
    private const int Admissions = 40;
    private const int Parallelism = 2;

    /// <summary>The chart's <c>webhook.timeoutSeconds</c>: past it the API server gives up on the webhook and refuses the pod.</summary>
    private static readonly TimeSpan WebhookTimeout = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData("down")]
    [InlineData("hanging")]
    public async Task ApiServerFault_PodsStillMutated_WithinTheWebhookTimeout(string fault)
    {
        using var certificates = WebhookTestCertificates.Create();
        await using var api = await certificates.StartApiServerAsync();
        api.Hang = fault == "hanging";
        var kubeconfig = fault == "down" ? certificates.WriteUnreachableKubeconfig() : api.KubeconfigFile;
        await using var webhook = await RunningWebhook.StartAsync(certificates, ["--kubeconfig", kubeconfig], CancellationToken.None).Bounded();
        var latencies = new List<TimeSpan>();
        var failures = new List<string>();
        var gate = new Lock();
        var next = -1;

        async Task AdmitAsync()
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < Admissions)
            {
                // A service account of its own per pod: nothing is answered from the look-up cache.
                var pod = RunningWebhook.GoldenInput("controller-generate-name");
                pod["spec"]!["serviceAccountName"] = "account-" + index;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var response = await webhook.ReviewAsync(pod, CancellationToken.None, uid: "fault-" + index).Bounded();
                    var latency = Stopwatch.GetElapsedTime(started);
                    lock (gate)
                    {
                        latencies.Add(latency);
                        if (!response["allowed"]!.GetValue<bool>() || response["patch"] is null)
                        {
                            failures.Add($"pod {index} not mutated");
                        }
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TimeoutException or TaskCanceledException)
                {
                    lock (gate)
                    {
                        failures.Add($"pod {index}: {ex.GetType().Name}");
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Parallelism).Select(_ => Task.Run(AdmitAsync))).WaitAsync(TimeSpan.FromMinutes(2));
        var sorted = latencies.Order().ToList();
        var p50 = sorted.Count > 0 ? sorted[sorted.Count / 2] : TimeSpan.Zero;
        var max = sorted.Count > 0 ? sorted[^1] : TimeSpan.Zero;
        var late = sorted.Count(l => l >= WebhookTimeout);

        var passed = failures.Count == 0 && late == 0 && sorted.Count == Admissions;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Faults,
            $"webhook, Kubernetes API server {fault}",
            [
                $"admissions: {Admissions}, {Parallelism} at a time",
                $"mutated: {sorted.Count - failures.Count(f => f.EndsWith("not mutated", StringComparison.Ordinal))}",
                $"failures: {failures.Count}",
                $"latency p50: {p50.TotalMilliseconds:F0} ms, max: {max.TotalMilliseconds:F0} ms (limit {WebhookTimeout.TotalSeconds:F0} s)",
                $"API server requests: {api.Requests}",
            ],
            passed)
        {
            Note = string.Join("; ", failures.Take(3)),
        });

        Assert.Empty(failures);
        Assert.Equal(Admissions, sorted.Count);
        Assert.True(late == 0, $"{late} answers took {WebhookTimeout.TotalSeconds} s or more (max {max.TotalMilliseconds:F0} ms)");
    }
}
