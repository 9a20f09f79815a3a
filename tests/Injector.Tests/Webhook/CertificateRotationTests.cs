using System.Collections.Concurrent;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// A CA rotation and serving-certificate renewals under load, on a stepped clock: two replicas in this process share
/// the clock and the API server stand-in; the test moves the clock one poll interval at a time, once both have parked,
/// while a client sends AdmissionReviews to both without a pause, each on a new connection that trusts only the
/// caBundle the configuration holds at that moment, judged at the clock's time. Not one handshake or review may fail.
/// </summary>
public sealed class CertificateRotationTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private readonly WebhookTestCertificates _certificates = WebhookTestCertificates.Create();

    [Fact]
    public async Task CaRotationAndRenewals_WhileReviewsFlow_NoTlsFailure_NoFailedReview()
    {
        var clock = new SteppingClock();
        await using var api = await _certificates.StartApiServerAsync();
        KeptCertificateWebhook.InstallConfigurations(api);
        string[] args = [.. KeptCertificateWebhook.Arguments(api, Interval), "--ca-lifetime", "10m", "--serving-certificate-lifetime", "4m", "--renew-before", "2m"];
        var starting = Enumerable.Range(0, 2).Select(_ => KeptCertificateWebhook.StartAsync(api, clock, args)).ToList();
        await using var first = await starting[0];
        await using var second = await starting[1];
        KeptCertificateWebhook[] replicas = [first, second];
        // One interval of the clock: once both replicas wait on it, and until both have done their round.
        async Task StepAsync()
        {
            var rounds = replicas.Select(r => r.Keeper.Rounds).ToArray();
            await clock.AdvanceAsync(Interval, timers: 2);
            await TestWait.UntilAsync(() => replicas.Select(r => r.Keeper.Rounds).Zip(rounds).All(pair => pair.First > pair.Second));
        }

        // The replica whose caBundle write lost to the other's is ready a round later.
        for (var step = 0; !(KeptCertificateWebhook.Bundle(api).Count == 1 && replicas.All(r => r.Keeper.NotReadyReason is null)); step++)
        {
            Assert.True(step < 3, string.Join("; ", replicas.Select(r => r.Keeper.NotReadyReason)));
            await StepAsync();
        }

        var firstCa = KeptCertificateWebhook.Bundle(api).Single().Thumbprint;

        var failures = new ConcurrentQueue<string>();
        var reviews = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    var response = await replicas[i % 2].ReviewAsync($"rotation-{i}");
                    if (response["allowed"]?.GetValue<bool>() != true)
                    {
                        failures.Enqueue($"review {i} not allowed: {response.ToJsonString()}");
                    }
                }
                catch (HttpRequestException ex) when (ex.InnerException is AuthenticationException)
                {
                    var bundle = string.Join(", ", KeptCertificateWebhook.Bundle(api).Select(ca => ca.Subject));
                    failures.Enqueue($"review {i}: TLS failure at {clock.GetUtcNow():T}: {ex.InnerException.Message}; caBundle [{bundle}], served by {replicas[i % 2].Serving.Served?.Issuer}");
                }
                catch (Exception ex) when (ex is HttpRequestException or Xunit.Sdk.XunitException)
                {
                    failures.Enqueue($"review {i}: {ex.Message}");
                }

                Interlocked.Increment(ref reviews);
            }
        });

        // What each step of the clock saw: the CAs in the caBundle, the rotation phase, the certificates served.
        var bundles = new List<string[]>();
        var phases = new List<string>();
        var served = new HashSet<string>();
        var start = clock.GetUtcNow();
        while (clock.GetUtcNow() - start < TimeSpan.FromMinutes(11))
        {
            await StepAsync();
            // Reviews reach both replicas at every step of the rotation.
            var seen = Volatile.Read(ref reviews);
            await TestWait.UntilAsync(() => Volatile.Read(ref reviews) >= seen + 2);

            bundles.Add([.. KeptCertificateWebhook.Bundle(api).Select(ca => ca.Thumbprint)]);
            phases.Add((string?)api.Get("secrets", KeptCertificateWebhook.Namespace, KeptCertificateWebhook.SecretName)!["metadata"]!["annotations"]![CertificateSecret.PhaseAnnotation] ?? "none");
            served.UnionWith(replicas.Select(r => r.Serving.Served!.Thumbprint));
        }

        await stop.CancelAsync();
        await load.Bounded();

        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.True(reviews > 100, $"{reviews} reviews");
        // The phases in order, each for at least the overlap (3 intervals), and back to one CA, a new one.
        Assert.Equal(["none", "ca-added", "ca-switched", "none"], phases.Where((phase, i) => i == 0 || phases[i - 1] != phase));
        Assert.True(phases.Count(p => p == "ca-added") >= 3 && phases.Count(p => p == "ca-switched") >= 3, string.Join(",", phases));
        var overlap = bundles.Where(b => b.Length == 2).ToList();
        Assert.NotEmpty(overlap);
        Assert.All(overlap, b => Assert.Contains(firstCa, b));
        var last = Assert.Single(bundles[^1]);
        Assert.NotEqual(firstCa, last);
        Assert.Contains(last, overlap[0]);
        // Serving certificates renewed under the first CA left the bundle as it was.
        var beforeRotation = bundles.Take(phases.IndexOf("ca-added")).ToList();
        Assert.All(beforeRotation, b => Assert.Equal([firstCa], b));
        Assert.True(served.Count >= 4, $"{served.Count} serving certificates: the first, renewals under the first CA, and the new CA's");
        // Both replicas serve the same certificate at the end, signed by the CA the bundle holds.
        Assert.Equal(first.Serving.Served!.Thumbprint, second.Serving.Served!.Thumbprint);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(KeptCertificateWebhook.Bundle(api));
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = clock.GetUtcNow().UtcDateTime;
        Assert.True(chain.Build(first.Serving.Served));
    }

    public void Dispose() => _certificates.Dispose();
}
