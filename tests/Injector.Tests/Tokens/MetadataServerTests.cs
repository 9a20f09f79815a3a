using System.Net;
using System.Text.Json;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Tests.Support;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Tokens;

/// <summary>
/// The sidecar against the GKE metadata emulator through Google.Apis.Auth, over real sockets. Where a scenario spans
/// token lifetimes, emulator and sidecar share a clock the test steps while the sidecar waits for it.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class MetadataServerTests
{
    private const string Audience = "https://svc-abc.a.run.app";

    [Fact]
    public async Task ThousandConcurrentSocketRequestsRightAfterStart_AllOk_OneIdentityRequest()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var sidecar = await stack.StartSidecarAsync(["--audience", Audience]);

        var responses = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => sidecar.GetTokenAsync(Audience))).Bounded();

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync())).ContinueWith(t => t.Result.Distinct().ToArray(), TaskScheduler.Default));
        Assert.Equal(1, stack.Metadata.IdentityRequests(Audience));
        var dynamic = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => sidecar.GetTokenAsync("https://dynamic.example"))).Bounded();
        Assert.All(dynamic, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, stack.Metadata.IdentityRequests("https://dynamic.example"));
    }

    /// <summary>
    /// Twenty-second tokens asked for between the clock's moves (half a second each) for 45 s: each refresh completes
    /// before the clock moves on, whatever the machine's load, so what is checked is when the sidecar refreshes and
    /// what it hands out, never how fast a busy machine fetches.
    /// </summary>
    [Fact]
    public async Task TwentySecondTokens_RotateBeforeExpiry_NoAnswerInsideTheMargin()
    {
        var clock = new SteppingClock();
        await using var stack = await CloudRunStack.StartAsync(clock, TimeSpan.FromSeconds(20));
        var sidecar = await stack.StartSidecarAsync(["--audience", Audience]);
        var seen = new HashSet<string>();

        await CallsAcrossRotations.RunAsync(clock, refreshLoops: 1, moves: 90, TimeSpan.FromMilliseconds(500), callers: 1, async _ =>
        {
            using var response = await sidecar.GetTokenAsync(Audience, json: true);
            var answeredAt = clock.GetUtcNow();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var token = IdToken.Parse(body.RootElement.GetProperty("token").GetString()!);
            Assert.True(answeredAt < token.ExpiresAt - TimeSpan.FromSeconds(2), $"answered at {answeredAt:O} with a token expiring {token.ExpiresAt:O}");
            seen.Add(token.Value);
        });

        Assert.True(seen.Count >= 3, $"saw {seen.Count} tokens in 45 s of 20 s tokens");
        Assert.InRange(stack.Metadata.IdentityRequests(Audience), seen.Count, seen.Count + 1);
    }

    /// <summary>
    /// The GKE metadata server hands out the same token until its last minute: a sidecar that refreshes early gets the
    /// old token back and must ask again, a few times, not in a loop. The clock moves to each of the sidecar's wakes.
    /// </summary>
    [Fact]
    public async Task GkeCacheQuirk_With150SecondTokens_NewTokenObtainedWithFewRequests()
    {
        var clock = new SteppingClock();
        await using var stack = await CloudRunStack.StartAsync(clock, TimeSpan.FromSeconds(150), metadata: o => o.GkeCache = true);
        var sidecar = await stack.StartSidecarAsync(["--audience", Audience]);
        using var firstResponse = await sidecar.GetTokenAsync(Audience);
        var first = IdToken.Parse(await firstResponse.Content.ReadAsStringAsync());

        var current = first.Value;
        while (current == first.Value && clock.GetUtcNow() < first.ExpiresAt)
        {
            await clock.AdvanceToNextWakeAsync();
            await TestWait.UntilAsync(() => clock.IsParked); // the fetch that woke has ended
            using var response = await sidecar.GetTokenAsync(Audience);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            current = await response.Content.ReadAsStringAsync();
        }

        Assert.NotEqual(first.Value, current);
        Assert.True(clock.GetUtcNow() < TokenTiming.UsableUntil(first));
        Assert.InRange(stack.Metadata.IdentityRequests(Audience) - 1, 1, 10);
    }

    /// <summary>
    /// The metadata server goes away with a 60-second token in hand: the sidecar serves it on, second by second of a
    /// clock the test steps, until its usable life ends, then answers 503 with Retry-After and is not ready; once the
    /// server is back, the next retry (at most the backoff's cap later) makes it ready again.
    /// </summary>
    [Fact]
    public async Task OutageShorterThanTheMargin_ServesOn_ThenFailsClosed_ThenRecovers()
    {
        var clock = new SteppingClock();
        await using var stack = await CloudRunStack.StartAsync(clock, TimeSpan.FromSeconds(60));
        var sidecar = await stack.StartSidecarAsync(["--audience", Audience]);
        using var firstResponse = await sidecar.GetTokenAsync(Audience);
        var token = IdToken.Parse(await firstResponse.Content.ReadAsStringAsync());
        await stack.Metadata.StopListeningAsync().Bounded();

        var second = TimeSpan.FromSeconds(1);
        while (clock.GetUtcNow() + second < TokenTiming.UsableUntil(token))
        {
            using var response = await sidecar.GetTokenAsync(Audience);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpStatusCode.OK, await sidecar.ReadinessAsync());
            await clock.AdvanceAsync(second);
        }

        while (clock.GetUtcNow() < TokenTiming.UsableUntil(token))
        {
            await clock.AdvanceAsync(second);
        }

        await TestWait.UntilAsync(() => clock.IsParked);
        using (var unavailable = await sidecar.GetTokenAsync(Audience))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
            Assert.NotNull(unavailable.Headers.RetryAfter?.Delta);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await sidecar.ReadinessAsync());

        await stack.Metadata.ResumeListeningAsync().Bounded();
        var resumed = clock.GetUtcNow();
        while (await sidecar.ReadinessAsync() != HttpStatusCode.OK)
        {
            await clock.AdvanceToNextWakeAsync();
            await TestWait.UntilAsync(() => clock.IsParked); // the retry that woke has ended, one way or the other
        }

        Assert.True(clock.GetUtcNow() - resumed <= RetryBackoff.DefaultCap + TimeSpan.FromSeconds(2));
    }

    /// <summary>
    /// The emulator refuses connections for its first 20 s (of a clock the test steps: long enough for a plain
    /// exponential backoff to fall seconds behind), and the sidecar retries quietly, at most a second apart:
    /// the clock moves only while both wait for it (the emulator's start, the sidecar's next retry), so what is checked
    /// is the sidecar's retry schedule before its first token, not how fast this machine fetches.
    /// </summary>
    [Fact]
    public async Task StartupWindowRefusingConnections_ReadyWithinTwoSecondsOfTheServerComingUp()
    {
        var clock = new SteppingClock();
        await using var stack = await CloudRunStack.StartAsync(clock, metadata: o =>
        {
            o.StartupWindow = TimeSpan.FromSeconds(20);
            o.StartupFailure = StartupFailure.Refuse;
        });
        var sidecar = await stack.StartSidecarAsync(["--audience", Audience]);

        // Two timers while the window lasts: the emulator's start and the sidecar's next retry.
        var moves = 0;
        while (true)
        {
            await TestWait.UntilAsync(() => stack.Metadata.WhenListening.IsCompleted || clock.ArmedTimers == 2);
            if (stack.Metadata.WhenListening.IsCompleted)
            {
                break;
            }

            clock.Advance(await clock.ParkedAsync(timers: 2) - clock.GetUtcNow());
            moves++;
        }

        var up = clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await sidecar.ReadinessAsync());
        while (await sidecar.ReadinessAsync() != HttpStatusCode.OK)
        {
            Assert.True(clock.GetUtcNow() - up <= TimeSpan.FromSeconds(2), $"not ready {(clock.GetUtcNow() - up).TotalSeconds:0.0} s after the metadata server came up");
            await clock.AdvanceToNextWakeAsync();
            await TestWait.UntilAsync(() => clock.IsParked); // the fetch that woke has ended, one way or the other
        }

        Assert.True(clock.GetUtcNow() - up <= TimeSpan.FromSeconds(2), $"ready {(clock.GetUtcNow() - up).TotalSeconds:0.0} s after the metadata server came up");
        Assert.InRange(moves, 15, 100); // the sidecar retried through the window, at most a second apart
        Assert.Equal(1, stack.Metadata.IdentityRequests(Audience));
    }

    [Theory]
    [InlineData(429, "rate_limited")]
    [InlineData(500, "server_error")]
    [InlineData(503, "server_error")]
    public async Task ErrorAnswersDuringRefresh_BoundedRequests_CountedByReason_NoCrash(int status, string reason)
    {
        var clock = new SteppingClock();
        await using var stack = await CloudRunStack.StartAsync(clock, TimeSpan.FromSeconds(20));
        var sidecar = await stack.StartSidecarAsync(["--audience", Audience]);
        using (await sidecar.GetTokenAsync(Audience))
        {
        }

        stack.Metadata.Faults.Status = status;
        // 40 s of the clock in half-second moves, asking between moves; the clock moves once the refresh loop waits.
        await CallsAcrossRotations.RunAsync(clock, refreshLoops: 1, moves: 80, TimeSpan.FromMilliseconds(500), callers: 1, async _ =>
        {
            using var response = await sidecar.GetTokenAsync(Audience);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{response.StatusCode}");
        });

        using (var failing = await sidecar.GetTokenAsync(Audience))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failing.StatusCode);
        }

        Assert.InRange(stack.Metadata.IdentityRequests(Audience), 4, 17);
        Assert.Matches($"token_injector_token_fetch_errors_total{{reason=\"{reason}\"}} [1-9]", await sidecar.MetricsAsync());

        stack.Metadata.Faults.Status = null;
        await clock.AdvanceToNextWakeAsync();
        await TestWait.UntilAsync(async () => await sidecar.ReadinessAsync() == HttpStatusCode.OK, TimeSpan.FromMilliseconds(10));
    }

    [Fact]
    public async Task HungMetadataServer_RequestTimesOut_AndIsCounted()
    {
        await using var stack = await CloudRunStack.StartAsync();
        stack.Metadata.Faults.Hang = true;
        var sidecar = await stack.StartSidecarAsync(["--audience", Audience, "--fetch-timeout", "500ms"]);

        using var response = await sidecar.GetTokenAsync(Audience);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("did not answer within 0.5 s", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Matches("token_injector_token_fetch_errors_total\\{reason=\"timeout\"\\} [1-9]", await sidecar.MetricsAsync());
        stack.Metadata.Faults.Hang = false;
        await TestWait.UntilAsync(async () => await sidecar.ReadinessAsync() == HttpStatusCode.OK, TimeSpan.FromMilliseconds(10));
    }
}
