using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TokenInjector.DevStack.Stack;
using TokenInjector.Emulators.GoogleApis;
using TokenInjector.Emulators.Metadata;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Emulators.Metadata;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Tokens;

/// <summary>
/// <c>injector sidecar --token-source adc</c> as a real process with an <c>external_account</c> credentials file
/// (Workload Identity Federation, fleet workload identity): the subject token (a file, or a URL) is exchanged at the
/// metadata emulator's Security Token Service, and the federated token calls its <c>generateIdToken</c> for the file's
/// service account. GCE_METADATA_HOST names a closed port, so every token below came through the file's own flow.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class ExternalAccountTests
{
    private const string ServiceAccount = "app@demo-project.iam.gserviceaccount.com";

    public static TheoryData<string> SubjectTokenSources => ["file-text", "file-json", "url-text", "url-json"];

    [Theory]
    [MemberData(nameof(SubjectTokenSources))]
    public async Task SubjectToken_ExchangedAtSts_ThenGenerateIdToken_ServesTheServiceAccountsToken(string source)
    {
        await using var stack = await CloudRunStack.StartAsync();
        using var sidecar = await StartAsync(stack, CredentialSource(stack, source), [.. stack.RouteArgs(), "--audience", "https://y.run.app&foo=1#x+y"]);

        using var serviceToken = await sidecar.GetTokenAsync(CloudRunStack.ServiceUrl);
        using var oddToken = await sidecar.GetTokenAsync("https://y.run.app&foo=1#x+y");
        using var channel = stack.RouteChannel();
        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = source }, deadline: TestWait.Deadline());

        Assert.Equal(HttpStatusCode.OK, serviceToken.StatusCode);
        var jwt = await serviceToken.Content.ReadAsStringAsync();
        var claims = MetadataTestSupport.DecodeSegment(jwt, 1);
        Assert.Equal(CloudRunStack.ServiceUrl, claims.GetProperty("aud").GetString());
        Assert.Equal(ServiceAccount, claims.GetProperty("email").GetString());
        Assert.Equal(new MetadataEmulatorOptions().ServiceAccountId, claims.GetProperty("sub").GetString());
        using var client = MetadataTestSupport.CreateClient(stack.Metadata);
        Assert.True(await MetadataTestSupport.VerifiesAgainstJwksAsync(client, stack.Metadata, jwt));
        Assert.Equal("https://y.run.app&foo=1#x+y", PunctuationAudiences.AudienceOf(await oddToken.Content.ReadAsStringAsync()));
        Assert.Equal(ServiceAccount, reply.Caller.Email);
        Assert.Equal(CloudRunStack.ServiceUrl, reply.Caller.Audience);

        var exchanges = stack.Metadata.Sts.Exchanges;
        Assert.NotEmpty(exchanges);
        Assert.All(exchanges, exchange =>
        {
            Assert.Null(exchange.Error);
            Assert.Equal(SecurityTokenService.ProviderAudience, exchange.Audience);
            Assert.Equal("urn:ietf:params:oauth:token-type:jwt", exchange.SubjectTokenType);
            Assert.Equal("urn:ietf:params:oauth:token-type:access_token", exchange.RequestedTokenType);
            Assert.Equal("https://www.googleapis.com/auth/cloud-platform", exchange.Scope);
            Assert.Equal(ExternalAccountFile.KubernetesSubject, exchange.Subject);
        });
        Assert.True(stack.Metadata.IdentityRequests(CloudRunStack.ServiceUrl) >= 1);
        Assert.Equal(0, TokenLeakScanner.CountLeaks(sidecar.Process.Output));
    }

    public static TheoryData<string, string> UnusableFiles() => new()
    {
        { "no-impersonation-url", "without service_account_impersonation_url: an ID token needs a service account to act as" },
        { "aws", "credential_source is AWS (environment_id), which the sidecar does not support; supported: file" },
        { "unknown-source", "credential_source is an unknown kind, which the sidecar does not support; supported: file" },
        { "json-without-field", "credential_source.format of type json has no subject_token_field_name" },
        { "no-token-url", "is an external_account without token_url" },
        { "impersonation-url-not-iam", "service_account_impersonation_url is not an http(s) URL ending in :generateAccessToken" },
    };

    [Theory]
    [MemberData(nameof(UnusableFiles))]
    public async Task UnusableExternalAccountFile_SidecarExits2AtStart_WithOneLineSayingWhy(string name, string expected)
    {
        var file = JsonNode.Parse(ExternalAccountFile.Json(new Uri("http://127.0.0.1:9/"), ServiceAccount, ExternalAccountFile.FileSource("/var/run/token")))!.AsObject();
        switch (name)
        {
            case "no-impersonation-url":
                file.Remove("service_account_impersonation_url");
                break;
            case "aws":
                file["credential_source"] = new JsonObject { ["environment_id"] = "aws1", ["region_url"] = "http://169.254.169.254/latest/meta-data/placement/availability-zone" };
                break;
            case "unknown-source":
                file["credential_source"] = new JsonObject { ["pipe"] = "/dev/token" };
                break;
            case "json-without-field":
                file["credential_source"]!["format"] = new JsonObject { ["type"] = "json" };
                break;
            case "no-token-url":
                file.Remove("token_url");
                break;
            case "impersonation-url-not-iam":
                file["service_account_impersonation_url"] = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/" + ServiceAccount;
                break;
        }

        var (exitCode, stderr, madeSocket) = await AdcSidecar.RunAsync(file.ToJsonString());

        Assert.Equal(2, exitCode);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.Contains("external_account", StringComparison.Ordinal));
        Assert.False(madeSocket);
    }

    public static TheoryData<string, string, string> FetchFailures() => new()
    {
        { "untrusted-subject-token", "sts_rejected", "the Security Token Service refused to exchange the subject token (400, invalid_grant)" },
        { "wrong-pool-audience", "sts_rejected", "the Security Token Service refused to exchange the subject token (400, invalid_target)" },
        { "iam-denies", "impersonation_denied", "IAM refused generateIdToken for app@demo-project.iam.gserviceaccount.com (403): the sidecar's identity needs roles/iam.serviceAccountOpenIdTokenCreator on app@demo-project.iam.gserviceaccount.com" },
        { "no-subject-token-file", "subject_token", "the subject token could not be obtained: the credential_source file cannot be read: Could not find file" },
    };

    /// <summary>
    /// A file that is well formed but whose flow fails: the sidecar keeps running, not ready, and counts each failure
    /// under its reason; the token API's 503 says what failed; no token in its output or answers; nothing is forwarded.
    /// </summary>
    [Theory]
    [MemberData(nameof(FetchFailures))]
    public async Task ExchangeOrIamFails_ClassifiedFetchFailure_NotReady_NoTokenInLogs(string name, string reason, string message)
    {
        await using var stack = await CloudRunStack.StartAsync();
        var tokenFile = stack.Directory.File("ksa-token");
        var file = JsonNode.Parse(ExternalAccountFile.Json(stack.Metadata.BaseAddress, ServiceAccount, ExternalAccountFile.FileSource(tokenFile)))!.AsObject();
        switch (name)
        {
            case "untrusted-subject-token":
                await File.WriteAllTextAsync(tokenFile, stack.Metadata.Sts.MintSubjectToken(ExternalAccountFile.KubernetesSubject, audience: "https://another.example.com"));
                break;
            case "wrong-pool-audience":
                await File.WriteAllTextAsync(tokenFile, stack.Metadata.Sts.MintSubjectToken(ExternalAccountFile.KubernetesSubject));
                file["audience"] = SecurityTokenService.ProviderAudience.Replace("emulator-pool", "deleted-pool", StringComparison.Ordinal);
                break;
            case "iam-denies":
                await File.WriteAllTextAsync(tokenFile, stack.Metadata.Sts.MintSubjectToken(ExternalAccountFile.KubernetesSubject));
                stack.Metadata.Sts.Deny(ExternalAccountFile.KubernetesSubject);
                break;
        }

        var path = stack.Directory.File("external-account.json");
        await File.WriteAllTextAsync(path, file.ToJsonString());
        var launch = stack.Sidecar(["--token-source", "adc", .. stack.RouteArgs()]) with
        {
            Environment = new Dictionary<string, string> { ["GOOGLE_APPLICATION_CREDENTIALS"] = path },
        };
        using var sidecar = SidecarProcess.Launch(launch);
        using var admin = new HttpClient { BaseAddress = new Uri($"http://{await SidecarProcess.WaitForAdminEndpointAsync(sidecar, TestWait.Limit)}/"), Timeout = TestWait.Limit };

        var counted = new Regex($"token_injector_token_fetch_errors_total\\{{reason=\"{reason}\"\\}} [2-9]");
        await TestWait.UntilAsync(async () => counted.IsMatch(await admin.GetStringAsync("metrics")), TimeSpan.FromMilliseconds(100));
        using var readiness = await admin.GetAsync("readyz").Bounded();
        var readinessBody = await readiness.Content.ReadAsStringAsync();
        using var socket = LoopbackHttp.UnixSocketClient(launch.SocketPath!, TestWait.Limit);
        using var token = await socket.GetAsync("v1/token?audience=" + Uri.EscapeDataString(CloudRunStack.ServiceUrl)).Bounded();
        var tokenBody = await token.Content.ReadAsStringAsync();
        using var http = new HttpClient { Timeout = TestWait.Limit };
        using var routed = await http.GetAsync($"http://127.0.0.1:{stack.RoutePort}/whoami").Bounded();

        Assert.False(sidecar.HasExited);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, token.StatusCode);
        Assert.Contains(message, tokenBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, routed.StatusCode);
        Assert.Equal(0, stack.CloudRun.Stats.Accepted + stack.CloudRun.Stats.Rejected);
        Assert.True(TokenLeakScanner.CountLeaks(sidecar.Output + readinessBody + tokenBody) == 0, TokenLeakScanner.Describe(sidecar.Output + readinessBody + tokenBody, "the sidecar's output and answers"));
        Assert.DoesNotContain("ya29.", sidecar.Output, StringComparison.Ordinal);
    }

    private static JsonObject CredentialSource(CloudRunStack stack, string source)
    {
        var json = source.EndsWith("-json", StringComparison.Ordinal);
        if (source.StartsWith("url", StringComparison.Ordinal))
        {
            return ExternalAccountFile.UrlSource(stack.Metadata.BaseAddress, ExternalAccountFile.KubernetesSubject, json);
        }

        // As the kubelet projects a service-account token: the file holds the token alone, or here a JSON document with it.
        var tokenFile = stack.Directory.File("ksa-token");
        var token = stack.Metadata.Sts.MintSubjectToken(ExternalAccountFile.KubernetesSubject);
        File.WriteAllText(tokenFile, json ? new JsonObject { ["id_token"] = token }.ToJsonString() : token);
        return ExternalAccountFile.FileSource(tokenFile, json ? "id_token" : null);
    }

    private static Task<SidecarProcess> StartAsync(CloudRunStack stack, JsonObject credentialSource, IReadOnlyList<string> args) =>
        AdcSidecar.StartAsync(stack, "external-account.json", ExternalAccountFile.Json(stack.Metadata.BaseAddress, ServiceAccount, credentialSource), args);
}
