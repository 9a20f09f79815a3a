using System.Net;
using System.Net.Http.Headers;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Google rotates the keys that sign ID tokens. While apps call through the route, the metadata emulator rotates
/// its key, with the old key kept in the JWKS (as Google does for a while) or removed at once, and Cloud Run
/// learns the new JWKS because a token signed by the new key reaches it. With the old key gone, Cloud Run refuses
/// the sidecar's current token: the 401 must trigger the forced refresh, and calls must succeed again.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
[Trait("Category", "Reliability")]
public sealed class SigningKeyRotationTests
{
    // How many calls fail depends on how fast the callers go while the forced refresh is under way; the bar is
    // on how long that takes (the recovery) and on there being exactly one refresh.
    private const int Callers = 4;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RotatedSigningKey_CallsKeepSucceedingOrRecoverByForcedRefresh(bool keepOldKey)
    {
        // Real time and one-hour tokens: no natural refresh can stand in for the forced one.
        var time = TimeProvider.System;
        await using var run = await SidecarUnderFault.StartAsync(time, TimeSpan.FromHours(1));
        await run.WarmUpAsync();
        await run.LoadUntilAsync(time.GetUtcNow() + TimeSpan.FromSeconds(1), Callers);

        run.Metadata.RotateSigningKey(keepOldKey);
        var rotated = time.GetUtcNow();
        var requestsBefore = run.Metadata.IdentityRequests(SidecarUnderFault.Audience);
        await CallCloudRunWithAFreshTokenAsync(run.Stack);

        await run.LoadUntilAsync(time.GetUtcNow() + TimeSpan.FromSeconds(3), Callers);
        var calls = run.Attempts.Where(a => a.Kind == AttemptKind.Call && a.Started >= rotated).ToList();
        var failed = calls.Where(a => !a.Ok).ToList();
        var lastFailure = failed.Select(a => (DateTimeOffset?)a.Ended).Max();
        var recovered = lastFailure is null ? null : calls.Where(a => a.Ok && a.Started >= lastFailure).Select(a => (DateTimeOffset?)a.Ended).Min();
        var recoveredIn = recovered - failed.Select(a => a.Started).DefaultIfEmpty().Min();
        var fetchesAfterRotation = run.Metadata.IdentityRequests(SidecarUnderFault.Audience) - requestsBefore - 1;
        var figures = await run.FiguresAsync();

        var passed = figures.Running && figures.Leaks == 0 && figures.FailedTokens == 0 && (keepOldKey
            ? failed.Count == 0
            : failed.Count > 0 && failed.All(a => a.Failure == "Unauthenticated") && recovered is not null
                && recoveredIn <= TimeSpan.FromSeconds(2) && fetchesAfterRotation == 1);
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Faults,
            keepOldKey ? "signing key rotated, old key kept in the JWKS" : "signing key rotated, old key removed from the JWKS",
            [
                .. figures.Lines,
                $"failed calls after the rotation: {failed.Count} of {calls.Count}",
                $"forced refreshes: {fetchesAfterRotation}",
                $"recovered in: {(failed.Count == 0 ? "nothing to recover" : FaultFigures.Seconds(recoveredIn))}",
            ],
            passed)
        {
            Note = keepOldKey
                ? "real time, 4 callers; the sidecar's token stays valid"
                : "real time, 4 callers; calls already sent with the refused token fail UNAUTHENTICATED (no usable token: Cloud Run refuses it) until the 401-triggered refresh lands",
        });

        figures.AssertNoCrashAndNoLeak();
        Assert.Equal(0, figures.FailedTokens);
        if (keepOldKey)
        {
            Assert.Empty(failed);
            return;
        }

        Assert.NotEmpty(failed);
        Assert.All(failed, a => Assert.Equal("Unauthenticated", a.Failure));
        Assert.Equal(1, fetchesAfterRotation);
        Assert.True(recoveredIn <= TimeSpan.FromSeconds(2), $"recovered in {recoveredIn}");
    }

    // Another client of the same service presents a token signed by the new key, so Cloud Run fetches the new JWKS.
    private static async Task CallCloudRunWithAFreshTokenAsync(CloudRunStack stack)
    {
        using var metadata = new HttpClient { BaseAddress = stack.Metadata.BaseAddress, Timeout = TestWait.Limit };
        using var identity = new HttpRequestMessage(HttpMethod.Get,
            "computeMetadata/v1/instance/service-accounts/default/identity?audience=" + CloudRunStack.ServiceUrl);
        identity.Headers.Add("Metadata-Flavor", "Google");
        using var issued = await metadata.SendAsync(identity).Bounded();
        var token = await issued.EnsureSuccessStatusCode().Content.ReadAsStringAsync();

        using var cloudRun = new HttpClient(stack.Authority.CreateHttpHandler(new IPEndPoint(IPAddress.Loopback, stack.CloudRun.Port)))
        {
            Timeout = TestWait.Limit,
        };
        using var call = new HttpRequestMessage(HttpMethod.Get, $"https://{CloudRunStack.ServiceHost}:{stack.CloudRun.Port}/whoami");
        call.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var answer = await cloudRun.SendAsync(call).Bounded();
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }
}
