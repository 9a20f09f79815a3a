using System.Net;
using System.Text.RegularExpressions;
using Grpc.Core;
using TokenInjector.DevStack.Stack;
using TokenInjector.Emulators.Metadata;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Tokens;

/// <summary>
/// The GKE metadata server refusing ID tokens because of how Workload Identity is set up (the metadata emulator answers
/// as the real server does), through the sidecar on a stepped clock: a metric reason, one log line with the fix however
/// many retries, <c>/readyz</c> 503 saying it, no token served, and a route that forwards nothing.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class WorkloadIdentityRefusalTests
{
    public static TheoryData<string, string> Refusals() => new()
    {
        { IdentityRefusal.NoServiceAccountName, "names no Google service account" },
        { IdentityRefusal.KsaNotAllowedName, "IAM does not let its Kubernetes service account act as" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refusal_ClassifiedOnce_ReadinessSaysTheFix_NoTokenAndNothingForwarded(string reason, string problem)
    {
        var clock = new SteppingClock();
        await using var stack = await CloudRunStack.StartAsync(clock);
        stack.Metadata.Faults.IdentityRefusal = IdentityRefusal.Named(reason);
        using var logs = new LogCapture();
        var sidecar = await stack.StartSidecarAsync(stack.RouteArgs(), logs);

        // Retries: each time the refresh loop waits, the clock moves to its next wake.
        while (stack.Metadata.IdentityRequests(CloudRunStack.ServiceUrl) < 5)
        {
            await clock.AdvanceToNextWakeAsync();
            await TestWait.UntilAsync(() => clock.IsParked);
        }

        using var readiness = await sidecar.AdminClient.GetAsync("/readyz").Bounded();
        var readinessBody = await readiness.Content.ReadAsStringAsync();
        using var token = await sidecar.GetTokenAsync(CloudRunStack.ServiceUrl);
        using var channel = stack.RouteChannel();
        var call = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "x" }, deadline: TestWait.Deadline()).ResponseAsync);
        using var http = new HttpClient { Timeout = TestWait.Limit };
        using var plain = await http.GetAsync($"http://127.0.0.1:{stack.RoutePort}/whoami").Bounded();
        var fixLines = logs.Text.Split('\n').Where(line => line.Contains("To fix:", StringComparison.Ordinal)).ToList();

        Assert.Matches($"token_injector_token_fetch_errors_total{{reason=\"{reason}\"}} ([5-9]|[1-9][0-9])", await sidecar.MetricsAsync());
        Assert.Single(fixLines);
        Assert.Contains("[150]", fixLines[0], StringComparison.Ordinal);
        Assert.Contains("roles/iam.workloadIdentityUser", fixLines[0], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
        Assert.Contains(problem, readinessBody, StringComparison.Ordinal);
        Assert.Contains("to fix: ", readinessBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, token.StatusCode);
        Assert.Contains(problem, await token.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unavailable, call.StatusCode);
        Assert.Contains(problem, call.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, plain.StatusCode);
        Assert.Equal(0, stack.CloudRun.Stats.Accepted + stack.CloudRun.Stats.Rejected);
        Assert.DoesNotMatch(new Regex(@"eyJ[A-Za-z0-9_-]{10,}\."), logs.Text + readinessBody);
    }

    /// <summary>The built sidecar as a process, on the real clock: the line with the fix is written once while it retries.</summary>
    [Fact]
    public async Task SidecarProcess_UnboundKsa_OneFixLineAcrossRetries_Readiness503SaysIt_RouteForwardsNothing()
    {
        await using var stack = await CloudRunStack.StartAsync();
        stack.Metadata.Faults.IdentityRefusal = IdentityRefusal.NoServiceAccount("shop/checkout");
        using var sidecar = SidecarProcess.Launch(stack.Sidecar(stack.RouteArgs()));
        using var admin = new HttpClient { BaseAddress = new Uri($"http://{await SidecarProcess.WaitForAdminEndpointAsync(sidecar, TestWait.Limit)}/"), Timeout = TestWait.Limit };

        await TestWait.UntilAsync(() => stack.Metadata.IdentityRequests(CloudRunStack.ServiceUrl) >= 3);
        using var readiness = await admin.GetAsync("readyz").Bounded();
        var readinessBody = await readiness.Content.ReadAsStringAsync();
        using var http = new HttpClient { Timeout = TestWait.Limit };
        using var routed = await http.GetAsync($"http://127.0.0.1:{stack.RoutePort}/whoami").Bounded();
        var metrics = await admin.GetStringAsync("metrics").Bounded();

        Assert.Single(sidecar.Output.Split('\n'), line => line.Contains("To fix:", StringComparison.Ordinal));
        Assert.Contains("serviceAccount:PROJECT_ID.svc.id.goog[shop/checkout]", sidecar.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
        Assert.Contains("service account shop/checkout names no Google service account", readinessBody, StringComparison.Ordinal);
        Assert.Contains("gives access tokens only; to fix: annotate the Kubernetes service account", readinessBody, StringComparison.Ordinal);
        Assert.Matches("token_injector_token_fetch_errors_total\\{reason=\"no_service_account\"\\} [3-9]", metrics);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, routed.StatusCode);
        Assert.Equal(0, stack.CloudRun.Stats.Accepted + stack.CloudRun.Stats.Rejected);
    }

    [Fact]
    public async Task RefusalLifted_NextRetryServesAToken_AndReadinessIsOk()
    {
        var clock = new SteppingClock();
        await using var stack = await CloudRunStack.StartAsync(clock);
        stack.Metadata.Faults.IdentityRefusal = IdentityRefusal.NoServiceAccount();
        var sidecar = await stack.StartSidecarAsync(stack.RouteArgs());
        await TestWait.UntilAsync(() => stack.Metadata.IdentityRequests(CloudRunStack.ServiceUrl) >= 1 && clock.IsParked);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await sidecar.ReadinessAsync());

        stack.Metadata.Faults.IdentityRefusal = null;
        await clock.AdvanceToNextWakeAsync();
        await TestWait.UntilAsync(async () => await sidecar.ReadinessAsync() == HttpStatusCode.OK, TimeSpan.FromMilliseconds(10));

        using var readiness = await sidecar.AdminClient.GetAsync("/readyz").Bounded();
        Assert.Equal("ready\n", await readiness.Content.ReadAsStringAsync());
    }

    public static TheoryData<int, string, string?> Bodies() => new()
    {
        { 404, IdentityRefusal.NoServiceAccount("shop/checkout").Body, WorkloadIdentityRefusal.NoServiceAccount },
        { 403, IdentityRefusal.KsaNotAllowed().Body, WorkloadIdentityRefusal.KsaNotAllowed },
        { 404, "Not Found", null },
        { 403, "Injected fault: HTTP 403.", null },
        { 500, IdentityRefusal.NoServiceAccount().Body, null },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Classify_OnlyTheRefusalsAnswers_AnythingElseStaysAPlainFailure(int status, string body, string? reason)
    {
        var refusal = WorkloadIdentityRefusal.Classify((HttpStatusCode)status, body);

        Assert.Equal(reason, refusal?.Reason);
        if (reason == WorkloadIdentityRefusal.NoServiceAccount)
        {
            Assert.Contains("service account shop/checkout names no Google service account", refusal!.Problem, StringComparison.Ordinal);
            Assert.Contains("serviceAccount:PROJECT_ID.svc.id.goog[shop/checkout]", refusal.Fix, StringComparison.Ordinal);
            Assert.DoesNotContain("iam.gke.io", refusal.Problem, StringComparison.Ordinal);
        }
    }
}
