using System.Globalization;
using System.Net;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Tests.Support;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// The GKE metadata server misbehaving while apps use the sidecar: outages, error storms and hangs shorter and
/// longer than a token's usable life, and a slow start. The load keeps asking the token API and calling through
/// the route the whole time. Lifetime-spanning scenarios run the shared clock ten times faster than real time;
/// the figures they report are on that clock ("token-clock seconds").
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
[Trait("Category", "Reliability")]
public sealed class MetadataFaultTests
{
    private const double ClockFactor = 10;
    private const string FetchTimeoutArg = "500ms";
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromMilliseconds(500);

    [Theory]
    [InlineData("outage")]
    [InlineData("429")]
    [InlineData("500")]
    [InlineData("503")]
    [InlineData("hang")]
    public async Task FaultShorterThanTheTokensUsableLife_NoFailedRequest_RefreshResumesAfter(string fault)
    {
        var time = new ScaledTimeProvider(ClockFactor);
        await using var run = await SidecarUnderFault.StartAsync(time, TimeSpan.FromSeconds(90), ["--fetch-timeout", FetchTimeoutArg]);
        var first = await run.WarmUpAsync();

        // Refresh is due 45 s before expiry (4.5 real seconds after the token came, time enough to warm up on a busy
        // machine); the fault covers that point and ends 18 s before the token is unusable (9 s before expiry).
        var fetchesBefore = await run.FetchAttemptsAsync();
        await SetFaultAsync(run.Metadata, fault, on: true);
        await run.LoadUntilAsync(first.ExpiresAt - TimeSpan.FromSeconds(27));
        var fetchesDuringFault = await run.FetchAttemptsAsync() - fetchesBefore;
        await SetFaultAsync(run.Metadata, fault, on: false);
        var faultEnded = time.GetUtcNow();
        await run.LoadAsync(() => run.LatestToken!.ExpiresAt > first.ExpiresAt || time.GetUtcNow() > TokenTiming.UsableUntil(first) + TimeSpan.FromSeconds(10));
        var renewedAt = run.Attempts.Where(a => a.Ok && a.TokenExpiresAt > first.ExpiresAt).Select(a => (DateTimeOffset?)a.Ended).Min();

        var figures = await run.FiguresAsync();
        var refreshedIn = renewedAt - faultEnded;
        var passed = figures.FailedTokens == 0 && figures.FailedCalls == 0 && figures.Running && figures.Leaks == 0
            && renewedAt is { } at && at < TokenTiming.UsableUntil(first) && fetchesDuringFault <= 15
            && run.Stack.CloudRun.Stats.Rejected == 0;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Faults,
            $"metadata {Describe(fault)} shorter than the token's usable life",
            [.. figures.Lines, $"token fetches during the fault: {fetchesDuringFault}", $"new token {FaultFigures.Seconds(refreshedIn)} after the fault (token clock)"],
            passed)
        {
            Note = "90 s tokens, clock x10; the fault spans the refresh point and ends 18 s before the token would be unusable",
        });

        figures.AssertNoCrashAndNoLeak();
        Assert.Equal(0, figures.FailedTokens);
        Assert.Equal(0, figures.FailedCalls);
        Assert.Equal(0, run.Stack.CloudRun.Stats.Rejected);
        Assert.InRange(fetchesDuringFault, 1, 15);
        Assert.True(renewedAt < TokenTiming.UsableUntil(first), $"no new token before the old one became unusable (renewed at {renewedAt:O})");
    }

    [Theory]
    [InlineData("outage")]
    [InlineData("503")]
    [InlineData("hang")]
    public async Task FaultLongerThanTheTokensUsableLife_FailsClosedWith503_RecoversWhenItEnds(string fault)
    {
        var time = new ScaledTimeProvider(ClockFactor);
        await using var run = await SidecarUnderFault.StartAsync(time, TimeSpan.FromSeconds(30), ["--fetch-timeout", FetchTimeoutArg]);
        var first = await run.WarmUpAsync();
        var usableUntil = TokenTiming.UsableUntil(first);

        await SetFaultAsync(run.Metadata, fault, on: true);
        await run.LoadUntilAsync(first.ExpiresAt + TimeSpan.FromSeconds(10));
        var readinessWithoutToken = await run.Sidecar.ReadinessAsync();
        await SetFaultAsync(run.Metadata, fault, on: false);
        var faultEnded = time.GetUtcNow();
        await run.LoadAsync(() => time.GetUtcNow() > faultEnded + TimeSpan.FromSeconds(60)
            || (FirstSuccessAfter(run, AttemptKind.Token, faultEnded) is not null && FirstSuccessAfter(run, AttemptKind.Call, faultEnded) is not null));

        var figures = await run.FiguresAsync();
        var attempts = run.Attempts;
        // Answered before the token's usable life ended: the sidecar checked the token before that too, so whatever
        // kept the request waiting on a busy machine, the answer had to be the token. (An attempt started before the
        // end but answered after it may see either answer; on a clock ten times faster than real time, a scheduling
        // delay of a few hundred milliseconds is seconds of token time.)
        var whileUsable = attempts.Where(a => a.Ended < usableUntil).ToList();
        var withoutToken = attempts.Where(a => a.Started > usableUntil && a.Ended < faultEnded).ToList();
        var lostWhileUsable = whileUsable.Count(a => !a.Ok);
        var badRefusals = withoutToken.Count(a => a.Failure is not ("503" or "Unavailable"));
        var expiredServed = attempts.Count(a => a.Failure == SidecarUnderFault.Failures.ExpiredToken);
        var refusedWithoutToken = withoutToken.Count(a => !a.Ok);
        var slowestRefusal = withoutToken.Where(a => !a.Ok).Select(a => a.Took).DefaultIfEmpty().Max();
        var recovered = Later(FirstSuccessAfter(run, AttemptKind.Token, faultEnded), FirstSuccessAfter(run, AttemptKind.Call, faultEnded));
        var recoveredIn = recovered - faultEnded;
        var text = await run.TextThatMustHoldNoTokenAsync();
        var timedOutAtFetchTimeout = text.Contains("did not answer within 0.5 s", StringComparison.Ordinal);
        var stats = run.Stack.CloudRun.Stats;

        var passed = lostWhileUsable == 0 && badRefusals == 0 && expiredServed == 0 && refusedWithoutToken > 0
            && readinessWithoutToken == HttpStatusCode.ServiceUnavailable && recoveredIn <= RetryBackoff.DefaultCap + TimeSpan.FromSeconds(5)
            && slowestRefusal <= FetchTimeout + TimeSpan.FromSeconds(2) && (fault != "hang" || timedOutAtFetchTimeout)
            && stats.Rejected == 0 && stats.WithoutToken == 0 && figures.Running && figures.Leaks == 0;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Faults,
            $"metadata {Describe(fault)} longer than the token's usable life",
            [
                .. figures.Lines,
                $"failed while a usable token existed: {lostWhileUsable} of {whileUsable.Count}",
                $"refused without a token: {refusedWithoutToken} (503 + Retry-After / UNAVAILABLE; other answers: {badRefusals})",
                $"expired tokens served or forwarded: {expiredServed + stats.Rejected}",
                $"slowest refusal: {FaultFigures.Seconds(slowestRefusal)} real" + (fault == "hang" ? $" (fetch timeout {FetchTimeout.TotalSeconds:0.0} s; timed out at it: {(timedOutAtFetchTimeout ? "yes" : "NO")})" : string.Empty),
                $"recovered {FaultFigures.Seconds(recoveredIn)} after the fault (token clock)",
            ],
            passed)
        {
            Note = "30 s tokens, clock x10; the fault lasts until 10 s past expiry; recovery bar: the 30 s backoff cap + 5 s",
        });

        figures.AssertNoCrashAndNoLeak();
        Assert.Equal(0, lostWhileUsable);
        Assert.True(refusedWithoutToken > 0, "no request came while there was no usable token");
        Assert.Equal(0, badRefusals);
        Assert.Equal(0, expiredServed);
        Assert.Equal(0, stats.Rejected + stats.WithoutToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readinessWithoutToken);
        Assert.True(slowestRefusal <= FetchTimeout + TimeSpan.FromSeconds(2), $"a refusal took {slowestRefusal}");
        Assert.True(fault != "hang" || timedOutAtFetchTimeout, "no fetch reported timing out at the fetch timeout");
        Assert.True(recoveredIn <= RetryBackoff.DefaultCap + TimeSpan.FromSeconds(5), $"recovered {recoveredIn} after the fault");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SlowStart_ReadySoonAfterTheMetadataServerComesUp(bool refusing)
    {
        var failure = refusing ? StartupFailure.Refuse : StartupFailure.Unavailable;
        // Real time: on a sped-up clock the first successful fetch's real CPU time would count ten times over.
        var time = TimeProvider.System;
        var window = TimeSpan.FromSeconds(4);
        var before = time.GetUtcNow();
        await using var run = await SidecarUnderFault.StartAsync(time, TimeSpan.FromHours(1), metadata: o =>
        {
            o.StartupWindow = window;
            o.StartupFailure = failure;
        });

        var load = run.LoadAsync(() => time.GetUtcNow() > before + window + TimeSpan.FromSeconds(1));
        await run.Metadata.WhenListening.Bounded();
        var up = Later(time.GetUtcNow(), before + window)!.Value;
        await TestWait.PollAsync(async () => await run.Sidecar.ReadinessAsync() == HttpStatusCode.OK, TimeSpan.FromMilliseconds(5));

        var readyAfter = time.GetUtcNow() - up;
        await load;
        var figures = await run.FiguresAsync();
        var badRefusals = run.Attempts.Count(a => a.Failure is not (null or "503" or "Unavailable"));
        var passed = readyAfter <= TimeSpan.FromSeconds(2) && badRefusals == 0 && figures.Running && figures.Leaks == 0;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Faults,
            $"slow start: metadata server {(failure == StartupFailure.Refuse ? "refusing connections" : "answering 503")} for {window.TotalSeconds:0} s",
            [.. figures.Lines, $"ready {FaultFigures.Seconds(readyAfter)} after it came up", $"refusals other than 503 / UNAVAILABLE: {badRefusals}"],
            passed)
        {
            Note = "real time; requests before the first token are refused (no token existed); bar: ready within 2 s",
        });

        figures.AssertNoCrashAndNoLeak();
        Assert.Equal(0, badRefusals);
        Assert.True(readyAfter <= TimeSpan.FromSeconds(2), $"ready {readyAfter.TotalSeconds:0.0} s after the metadata server came up");
    }

    private static string Describe(string fault) => fault switch
    {
        "outage" => "outage",
        "hang" => "hang",
        _ => fault + " storm",
    };

    private static Task SetFaultAsync(MetadataEmulator metadata, string fault, bool on)
    {
        switch (fault)
        {
            case "outage":
                return (on ? metadata.StopListeningAsync() : metadata.ResumeListeningAsync()).Bounded();
            case "hang":
                metadata.Faults.Hang = on;
                return Task.CompletedTask;
            default:
                metadata.Faults.Status = on ? int.Parse(fault, CultureInfo.InvariantCulture) : null;
                return Task.CompletedTask;
        }
    }

    private static DateTimeOffset? FirstSuccessAfter(SidecarUnderFault run, AttemptKind kind, DateTimeOffset after) =>
        run.Attempts.Where(a => a.Kind == kind && a.Ok && a.Started >= after).Select(a => (DateTimeOffset?)a.Ended).Min();

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null || b is null ? null : a > b ? a : b;
}
