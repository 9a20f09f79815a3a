using System.Net;
using System.Text.RegularExpressions;
using Grpc.Core;
using TokenInjector.DevStack.Stack;
using TokenInjector.Emulators.CloudRun;
using TokenInjector.Emulators.Identity;
using TokenInjector.Emulators.Metadata;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Emulators.Metadata;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Tokens;

/// <summary>
/// <c>--impersonate</c> against the emulators: the sidecar's own identity (the metadata server's access token) calls
/// IAM's <c>generateIdToken</c>, whose tokens the Cloud Run emulator checks (signature, <c>aud</c>, invoker) and
/// records by <c>sub</c> and <c>email</c>; the metadata emulator records each IAM call's caller, account and delegates.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class ImpersonationTests
{
    private const string Own = "app@demo-project.iam.gserviceaccount.com";
    private const string Invoker = "invoker@demo-project.iam.gserviceaccount.com";
    private const string Reports = "reports@demo-project.iam.gserviceaccount.com";
    private const string FirstHop = "first-hop@demo-project.iam.gserviceaccount.com";
    private const string SecondHop = "second-hop@demo-project.iam.gserviceaccount.com";
    private const string ReportsAudience = "https://reports.example.com";

    /// <summary>The pod's Kubernetes service account names no Google one: the metadata server refuses ID tokens, and impersonation serves them.</summary>
    [Fact]
    public async Task SidecarProcess_UnboundKsa_ImpersonatesForEveryAudience_CloudRunAcceptsTheInvoker()
    {
        await using var stack = await StackAsync(invokers: [Invoker]);
        stack.Metadata.Faults.IdentityRefusal = IdentityRefusal.NoServiceAccount("shop/checkout");

        // Started means ready: /readyz answers 200 once the route's audience has its token.
        using var sidecar = await SidecarProcess.StartAsync(stack.Sidecar([.. stack.RouteArgs(), "--impersonate", Invoker, .. IamArgs(stack)]), TestWait.Limit);
        using var channel = stack.RouteChannel();
        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "as the invoker" }, deadline: TestWait.Deadline());
        var metrics = await sidecar.AdminClient.GetStringAsync("metrics").Bounded();

        Assert.Equal(Invoker, reply.Caller.Email);
        Assert.Equal([new TokenCaller(CloudRunStack.ServiceUrl, ServiceAccountIdentity.Other(Invoker).Id, Invoker)], stack.CloudRun.Stats.Callers);
        var call = Assert.Single(stack.Metadata.GenerateIdTokenCalls);
        Assert.Equal((stack.Metadata.FederatedPrincipal("shop/checkout"), Invoker, CloudRunStack.ServiceUrl, true), (call.Caller, call.ServiceAccount, call.Audience, call.IncludeEmail));
        Assert.Empty(call.Delegates);
        Assert.DoesNotContain("token_injector_token_fetch_errors_total{", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("To fix:", sidecar.Process.Output, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex(@"eyJ[A-Za-z0-9_-]{10,}\."), sidecar.Process.Output);
    }

    /// <summary>One sidecar, two routes: one as the pod's own account, one as a dedicated account for its audience.</summary>
    [Fact]
    public async Task TwoRoutes_TwoIdentities_EachTokenAcceptedAsItsOwnAccountForItsOwnAudience()
    {
        await using var stack = await StackAsync(invokers: [Own, Reports]);
        var reportsPort = FreePort.Next();
        var sidecar = await stack.StartSidecarAsync(
        [
            .. stack.RouteArgs(),
            "--route", $"{reportsPort}=https://{CloudRunStack.ServiceHost}:{stack.Stack.CloudRunPort}={ReportsAudience}",
            "--impersonate", $"{Reports}={ReportsAudience}",
            .. IamArgs(stack),
        ]);

        using var ownChannel = stack.RouteChannel();
        using var reportsChannel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{reportsPort}");
        var asItself = await new Echo.EchoClient(ownChannel).UnaryAsync(new EchoRequest { Message = "own" }, deadline: TestWait.Deadline());
        var asReports = await new Echo.EchoClient(reportsChannel).UnaryAsync(new EchoRequest { Message = "reports" }, deadline: TestWait.Deadline());

        Assert.Equal((Own, CloudRunStack.ServiceUrl), (asItself.Caller.Email, asItself.Caller.Audience));
        Assert.Equal((Reports, ReportsAudience), (asReports.Caller.Email, asReports.Caller.Audience));
        Assert.Equal(
            [new TokenCaller(CloudRunStack.ServiceUrl, new MetadataEmulatorOptions().ServiceAccountId, Own), new TokenCaller(ReportsAudience, ServiceAccountIdentity.Other(Reports).Id, Reports)],
            stack.CloudRun.Stats.Callers.OrderBy(caller => caller.Audience, StringComparer.Ordinal));
        Assert.All(stack.Metadata.GenerateIdTokenCalls, call => Assert.Equal((Own, Reports, ReportsAudience), (call.Caller, call.ServiceAccount, call.Audience)));
        Assert.Equal(0, stack.CloudRun.Stats.Rejected);
        Assert.Equal(HttpStatusCode.OK, await sidecar.ReadinessAsync());
    }

    /// <summary>
    /// A delegation chain reaches IAM with its delegates in order, for the socket and for an app's own request to the
    /// metadata endpoint, whose <c>format=standard</c> becomes <c>includeEmail: false</c>.
    /// </summary>
    [Fact]
    public async Task DelegationChain_ReachesIamInOrder_TheTokenIsTheTargetsAndItsFormatIsTheOneAskedFor()
    {
        await using var stack = await StackAsync(invokers: []);
        var metadataPort = FreePort.Next();
        var sidecar = await stack.StartSidecarAsync(
        [
            "--audience", ReportsAudience, "--metadata", metadataPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--impersonate", $"{Reports};delegates={FirstHop}+{SecondHop}={ReportsAudience}", .. IamArgs(stack),
        ]);

        using var fromSocket = await sidecar.GetTokenAsync(ReportsAudience);
        var full = MetadataTestSupport.DecodeSegment(await fromSocket.Content.ReadAsStringAsync(), 1);
        using var metadata = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metadataPort}/"), Timeout = TestWait.Limit };
        using var standardAnswer = await metadata.SendMetadataAsync(
            $"{MetadataTestSupport.AccountsPath}/default/identity?audience={Uri.EscapeDataString(ReportsAudience)}&format=standard", flavor: true);
        var standard = MetadataTestSupport.DecodeSegment(await standardAnswer.Content.ReadAsStringAsync(), 1);

        Assert.Equal(Reports, full.GetProperty("email").GetString());
        Assert.Equal(ServiceAccountIdentity.Other(Reports).Id, full.GetProperty("sub").GetString());
        Assert.Equal(ReportsAudience, full.GetProperty("aud").GetString());
        Assert.False(standard.TryGetProperty("email", out _));
        Assert.Equal(ServiceAccountIdentity.Other(Reports).Id, standard.GetProperty("sub").GetString());
        Assert.Equal(
            [(Own, Reports, $"{FirstHop}+{SecondHop}", true), (Own, Reports, $"{FirstHop}+{SecondHop}", false)],
            stack.Metadata.GenerateIdTokenCalls.Select(c => (c.Caller, c.ServiceAccount, string.Join('+', c.Delegates), c.IncludeEmail)).Distinct());
    }

    /// <summary>IAM refuses (the account does not exist, or no grant): a classified failure that says what to grant, no token, nothing forwarded.</summary>
    [Fact]
    public async Task IamRefuses_ClassifiedImpersonationDenied_SayingTheGrant_NoTokenAndNothingForwarded()
    {
        await using var stack = await StackAsync(invokers: []);
        using var logs = new LogCapture();
        var sidecar = await stack.StartSidecarAsync(
            [.. stack.RouteArgs(), "--impersonate", $"ghost@demo-project.iam.gserviceaccount.com;delegates={FirstHop}", .. IamArgs(stack)], logs);

        var metrics = await sidecar.MetricsOnceTheyShowAsync("token_injector_token_fetch_errors_total{reason=\"impersonation_denied\"}");
        using var token = await sidecar.GetTokenAsync(CloudRunStack.ServiceUrl);
        var tokenBody = await token.Content.ReadAsStringAsync();
        using var channel = stack.RouteChannel();
        var call = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "x" }, deadline: TestWait.Deadline()).ResponseAsync);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, token.StatusCode);
        Assert.Contains("IAM refused generateIdToken for ghost@demo-project.iam.gserviceaccount.com (404)", tokenBody, StringComparison.Ordinal);
        Assert.Contains($"roles/iam.serviceAccountOpenIdTokenCreator on {FirstHop}", tokenBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await sidecar.ReadinessAsync());
        Assert.Equal(StatusCode.Unavailable, call.StatusCode);
        Assert.Equal(0, stack.CloudRun.Stats.Accepted + stack.CloudRun.Stats.Rejected);
        Assert.Empty(stack.Metadata.GenerateIdTokenCalls);
        Assert.DoesNotMatch(new Regex(@"eyJ[A-Za-z0-9_-]{10,}\.|ya29\."), logs.Text + tokenBody + metrics);
    }

    private static Task<CloudRunStack> StackAsync(string[] invokers) => CloudRunStack.StartAsync(
        metadata: options =>
        {
            foreach (var account in new[] { Invoker, Reports, FirstHop, SecondHop })
            {
                options.OtherServiceAccounts.Add(account);
            }
        },
        cloudRun: options =>
        {
            options.CustomAudiences.Add(ReportsAudience);
            foreach (var invoker in invokers)
            {
                options.Invokers.Add(invoker);
            }
        });

    private static string[] IamArgs(CloudRunStack stack) => ["--iam-credentials-url", stack.Metadata.BaseAddress.AbsoluteUri];
}
