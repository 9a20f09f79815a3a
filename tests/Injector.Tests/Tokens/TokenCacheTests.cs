using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using TokenInjector.Tests.Support;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Tokens;

/// <summary>
/// The cache against a fake token source. Scenarios about time step a manual clock shared by the source and the
/// cache, from one wake-up of the refresh loop to the next or in small steps with callers racing each step, so what
/// they assert does not depend on how busy the machine is. The idle-audience scenario, whose loop ends and leaves
/// nothing to step, runs on a sped-up clock.
/// </summary>
public sealed class TokenCacheTests
{
    private const string Audience = "https://svc-abc.a.run.app";

    [Fact]
    public async Task ThousandConcurrentCallersAtStart_ShareOneFetch()
    {
        var source = FakeIdTokenSource.HeldUntilReleased();
        await using var cache = await StartAsync(source, TimeProvider.System, Configured(Audience));

        var lookups = Enumerable.Range(0, 1000).Select(_ => cache.Cache.GetTokenAsync(Audience, default).AsTask()).ToArray();
        source.Release();
        var results = await Task.WhenAll(lookups).Bounded();

        Assert.All(results, r => Assert.Equal(TokenLookupStatus.Ok, r.Status));
        Assert.Single(results.Select(r => r.Token!.Value).Distinct());
        Assert.Equal(1, source.Calls(Audience));
    }

    [Fact]
    public async Task TwentySecondTokens_RotateBeforeExpiry_AndNoneIsHandedOutInsideItsMargin()
    {
        var clock = new SteppingClock();
        var source = new FakeIdTokenSource(clock, TimeSpan.FromSeconds(20));
        await using var cache = await StartAsync(source, clock, Configured(Audience));
        var end = clock.GetUtcNow() + TimeSpan.FromSeconds(70);
        var seen = new HashSet<string>();

        // Every 100 ms of clock time, four callers ask at once, racing any refresh the step set off.
        while (clock.GetUtcNow() < end)
        {
            await clock.AdvanceAsync(TimeSpan.FromMilliseconds(100));
            var lookups = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => cache.Cache.GetTokenAsync(Audience, default).AsTask())).Bounded();
            var returnedAt = clock.GetUtcNow();
            foreach (var lookup in lookups)
            {
                Assert.Equal(TokenLookupStatus.Ok, lookup.Status);
                Assert.True(returnedAt < TokenTiming.UsableUntil(lookup.Token!), $"handed out at {returnedAt:O}, usable until {TokenTiming.UsableUntil(lookup.Token!):O}");
                seen.Add(lookup.Token!.Value);
            }
        }

        // A refresh 9 to 10 s into each token's life: 8 tokens in 70 s, each fetched once.
        Assert.InRange(seen.Count, 7, 8);
        Assert.Equal(seen.Count, source.Calls(Audience));
    }

    [Fact]
    public async Task GkeCacheHandsBackTheSameToken_RefreshBacksOffUntilTheNewOneArrives()
    {
        var clock = new SteppingClock();
        var source = new FakeIdTokenSource(clock, TimeSpan.FromSeconds(150)) { GkeCacheWindow = TimeSpan.FromSeconds(60) };
        await using var cache = await StartAsync(source, clock, Configured(Audience));
        var first = (await cache.Cache.GetTokenAsync(Audience, default).Bounded()).Token!;

        IdToken current;
        do
        {
            await clock.AdvanceToNextWakeAsync();
            await clock.ParkedAsync();
            var lookup = await cache.Cache.GetTokenAsync(Audience, default).Bounded();
            Assert.Equal(TokenLookupStatus.Ok, lookup.Status);
            current = lookup.Token!;
        }
        while (current.Value == first.Value && clock.GetUtcNow() < first.ExpiresAt);

        Assert.NotEqual(first.Value, current.Value);
        Assert.True(clock.GetUtcNow() < TokenTiming.UsableUntil(first), "the new token must arrive while the old one is still usable");
        var rotationFetches = source.Calls(Audience) - 1;
        Assert.InRange(rotationFetches, 2, 10);
    }

    [Fact]
    public async Task FailingRefreshes_BackOffBoundedly_ReportWhy_AndRecoverWithinTheCap()
    {
        var clock = new SteppingClock();
        var source = new FakeIdTokenSource(clock, TimeSpan.FromSeconds(20));
        await using var cache = await StartAsync(source, clock, Configured(Audience));
        await cache.Cache.GetTokenAsync(Audience, default).Bounded();
        source.Failure = new TokenFetchException(TokenFetchException.ServerError, "the token endpoint answered 503 ServiceUnavailable");

        var waits = await StepAsync(clock, TimeSpan.FromSeconds(40));

        // The refresh is due about 10 s into the 20 s token. The retries are dense while the token is still
        // usable (up to 18 s), then back off exponentially, and no wait is longer than the cap.
        Assert.InRange(source.Calls(Audience), 4, 16);
        Assert.All(waits, wait => Assert.True(wait <= RetryBackoff.DefaultCap, $"waited {wait}"));
        var lookup = await cache.Cache.GetTokenAsync(Audience, default).Bounded();
        Assert.Equal(TokenLookupStatus.Unavailable, lookup.Status);
        Assert.Contains("503", lookup.Problem, StringComparison.Ordinal);
        Assert.Equal([Audience], cache.Cache.AudiencesWithoutUsableToken());

        source.Failure = null;
        var healedAfter = await clock.AdvanceToNextWakeAsync();
        await TestWait.UntilAsync(() => cache.Cache.AudiencesWithoutUsableToken().Count == 0);

        Assert.True(healedAfter <= RetryBackoff.DefaultCap, $"recovery came {healedAfter} later, beyond the backoff cap");
        Assert.Equal(TokenLookupStatus.Ok, (await cache.Cache.GetTokenAsync(Audience, default).Bounded()).Status);
    }

    [Theory]
    [InlineData(TokenFetchException.Unreachable)]
    [InlineData(TokenFetchException.RateLimited)]
    public async Task BeforeTheFirstToken_RetriesAtLeastEverySecond_ExceptWhenRateLimited(string reason)
    {
        var clock = new SteppingClock();
        var source = new FakeIdTokenSource(clock, TimeSpan.FromHours(1)) { Failure = new TokenFetchException(reason, "not yet") };
        await using var cache = await StartAsync(source, clock, Configured(Audience));

        var waits = await StepAsync(clock, TimeSpan.FromSeconds(20));

        if (reason == TokenFetchException.RateLimited)
        {
            // The ordinary backoff: 200 ms doubling, each wait drawn from [d/2, d] and rounded up to whole ms.
            Assert.All(waits.Select((wait, attempt) => (wait, attempt)), retry =>
            {
                var ceiling = RetryBackoff.DefaultInitial * Math.Pow(2, retry.attempt);
                Assert.InRange(retry.wait, ceiling / 2, ceiling + TimeSpan.FromMilliseconds(1));
            });
            Assert.Contains(waits, wait => wait > TimeSpan.FromSeconds(1));
        }
        else
        {
            Assert.All(waits, wait => Assert.True(wait <= TimeSpan.FromSeconds(1), $"waited {wait}"));
            Assert.True(source.Calls(Audience) > 20, $"{source.Calls(Audience)} attempts in 20 s");
        }
    }

    [Fact]
    public async Task OutageShorterThanTheUsableLife_KeepsServingTheCurrentToken_ThenFailsClosed()
    {
        var clock = new SteppingClock();
        var source = new FakeIdTokenSource(clock, TimeSpan.FromSeconds(20));
        await using var cache = await StartAsync(source, clock, Configured(Audience));
        var token = (await cache.Cache.GetTokenAsync(Audience, default).Bounded()).Token!;
        source.Failure = new TokenFetchException(TokenFetchException.Unreachable, "the token endpoint could not be reached");

        while (clock.GetUtcNow() + TimeSpan.FromMilliseconds(100) < TokenTiming.UsableUntil(token))
        {
            await clock.AdvanceAsync(TimeSpan.FromMilliseconds(100));
            var lookup = await cache.Cache.GetTokenAsync(Audience, default).Bounded();
            Assert.Equal(TokenLookupStatus.Ok, lookup.Status);
            Assert.Equal(token.Value, lookup.Token!.Value);
            Assert.Empty(cache.Cache.AudiencesWithoutUsableToken());
        }

        await clock.AdvanceAsync(TokenTiming.UsableUntil(token) - clock.GetUtcNow());

        var after = await cache.Cache.GetTokenAsync(Audience, default).Bounded();
        Assert.Equal(TokenLookupStatus.Unavailable, after.Status);
        Assert.Contains("could not be reached", after.Problem, StringComparison.Ordinal);
        Assert.Equal([Audience], cache.Cache.AudiencesWithoutUsableToken());
    }

    [Fact]
    public async Task DynamicAudience_FetchedOnceForConcurrentCallers()
    {
        var source = new FakeIdTokenSource(TimeProvider.System, TimeSpan.FromHours(1));
        await using var cache = await StartAsync(source, TimeProvider.System, Configured());

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => cache.Cache.GetTokenAsync("https://dynamic.example", default).AsTask())).Bounded();

        Assert.All(results, r => Assert.Equal(TokenLookupStatus.Ok, r.Status));
        Assert.Equal(1, source.Calls("https://dynamic.example"));
        Assert.Equal(TokenMetrics.OtherAudience, cache.Cache.MetricLabel("https://dynamic.example"));
    }

    [Fact]
    public async Task DynamicAudiencesOff_UnconfiguredAudienceIsNotAllowed()
    {
        var source = new FakeIdTokenSource(TimeProvider.System, TimeSpan.FromHours(1));
        await using var cache = await StartAsync(source, TimeProvider.System, Configured(Audience) with { AllowDynamicAudiences = false });

        var lookup = await cache.Cache.GetTokenAsync("https://other.example", default).Bounded();

        Assert.Equal(TokenLookupStatus.NotAllowed, lookup.Status);
        Assert.Equal(0, source.Calls("https://other.example"));
    }

    [Fact]
    public async Task DynamicAudiences_AreBounded_LeastRecentlyUsedDroppedFirst()
    {
        // A clock that moves a second between lookups: two lookups in one tick of the real clock would tie on "least recently".
        var clock = new SteppingClock();
        var source = new FakeIdTokenSource(clock, TimeSpan.FromHours(1));
        await using var cache = await StartAsync(source, clock, Configured() with { MaxDynamicAudiences = 2 });

        foreach (var audience in new[] { "https://a", "https://b", "https://a", "https://c", "https://a", "https://b" })
        {
            Assert.Equal(TokenLookupStatus.Ok, (await cache.Cache.GetTokenAsync(audience, default).Bounded()).Status);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        // a stayed (recently used); b was dropped for c, then fetched again.
        Assert.Equal(1, source.Calls("https://a"));
        Assert.Equal(2, source.Calls("https://b"));
        Assert.Equal(1, source.Calls("https://c"));
    }

    [Fact]
    public async Task IdleDynamicAudience_StopsBeingRefreshed()
    {
        var clock = new SteppingClock();
        var source = new FakeIdTokenSource(clock, TimeSpan.FromSeconds(20));
        var logs = new LogCapture();
        await using var cache = await StartAsync(source, clock, Configured() with { DynamicAudienceIdle = TimeSpan.FromSeconds(15) }, logs);
        await cache.Cache.GetTokenAsync("https://idle", default).Bounded();
        var started = clock.GetUtcNow();
        bool GivenUp() => logs.Text.Contains("https://idle went unused", StringComparison.Ordinal);

        // From wake-up to wake-up until the refresh loop gives the unused audience up (it then parks no more).
        while (!GivenUp())
        {
            await clock.AdvanceToNextWakeAsync();
            await TestWait.UntilAsync(() => clock.IsParked || GivenUp());
        }

        // Refreshed while within the idle limit (at most twice), then dropped: no fetch in the minute after.
        var fetches = source.Calls("https://idle");
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.InRange(fetches, 1, 3);
        Assert.True(clock.GetUtcNow() - started <= TimeSpan.FromSeconds(90), $"given up {clock.GetUtcNow() - started} after its last use");
        Assert.Equal(fetches, source.Calls("https://idle"));
        Assert.False(clock.IsParked);
    }

    [Fact]
    public async Task UnexpectedSourceException_IsAFailedFetch_NotACrash()
    {
        var source = new FakeIdTokenSource(TimeProvider.System, TimeSpan.FromHours(1)) { Failure = new InvalidOperationException("library bug") };
        await using var cache = await StartAsync(source, TimeProvider.System, Configured(Audience));

        var lookup = await cache.Cache.GetTokenAsync(Audience, default).Bounded();

        Assert.Equal(TokenLookupStatus.Unavailable, lookup.Status);
        Assert.Contains("unexpectedly", lookup.Problem, StringComparison.Ordinal);
        Assert.False(cache.Cache.ExecuteTask!.IsCompleted);
    }

    /// <summary>Lets the refresh loop run from wake-up to wake-up until the clock has moved at least <paramref name="span"/>.</summary>
    private static async Task<List<TimeSpan>> StepAsync(SteppingClock clock, TimeSpan span)
    {
        var end = clock.GetUtcNow() + span;
        var waits = new List<TimeSpan>();
        while (clock.GetUtcNow() < end)
        {
            waits.Add(await clock.AdvanceToNextWakeAsync());
        }

        return waits;
    }

    private static TokenCacheOptions Configured(params string[] audiences) =>
        new(audiences, AllowDynamicAudiences: true, MaxDynamicAudiences: 64, DynamicAudienceIdle: TimeSpan.FromMinutes(10));

    private static async Task<StartedCache> StartAsync(FakeIdTokenSource source, TimeProvider time, TokenCacheOptions options, LogCapture? logs = null)
    {
        ILogger<TokenCache> logger = logs is null ? NullLogger<TokenCache>.Instance : new Logger<TokenCache>(new LoggerFactory([logs]));
        var cache = new TokenCache(options, source, time, new TokenMetrics(Metrics.NewCustomRegistry()), logger, []);
        await cache.StartAsync(default).Bounded();
        return new StartedCache(cache);
    }

    private sealed class StartedCache(TokenCache cache) : IAsyncDisposable
    {
        public TokenCache Cache { get; } = cache;

        public async ValueTask DisposeAsync()
        {
            await Cache.StopAsync(default).Bounded();
            Cache.Dispose();
        }
    }
}
