using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenInjector.DevStack.Stack;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Emulators.Metadata;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Tokens;

/// <summary>
/// <c>injector sidecar --token-source adc</c> as a real process, with <c>GOOGLE_APPLICATION_CREDENTIALS</c> naming
/// each kind of credentials file. The files name the emulator's OAuth2 token endpoint and generateIdToken, and
/// GCE_METADATA_HOST names a closed port, so every token below came through the file's own flow.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class AdcSourceTests
{
    public static TheoryData<string> MintingKinds => ["service_account", "impersonated_service_account"];

    [Theory]
    [MemberData(nameof(MintingKinds))]
    public async Task CredentialsFile_TokensOnTheSocketAndProxiedCallsCarryExactlyTheAudience(string kind)
    {
        await using var stack = await CloudRunStack.StartAsync();
        using var sidecar = await StartAsync(stack, kind, [.. stack.RouteArgs(), "--audience", "https://y.run.app&foo=1#x+y"]);

        using var serviceToken = await sidecar.GetTokenAsync(CloudRunStack.ServiceUrl);
        using var oddToken = await sidecar.GetTokenAsync("https://y.run.app&foo=1#x+y");
        using var channel = stack.RouteChannel();
        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = kind }, deadline: TestWait.Deadline());

        Assert.Equal(HttpStatusCode.OK, serviceToken.StatusCode);
        var jwt = await serviceToken.Content.ReadAsStringAsync();
        Assert.Equal(CloudRunStack.ServiceUrl, PunctuationAudiences.AudienceOf(jwt));
        using var client = MetadataTestSupport.CreateClient(stack.Metadata);
        Assert.True(await MetadataTestSupport.VerifiesAgainstJwksAsync(client, stack.Metadata, jwt));
        Assert.Equal("https://y.run.app&foo=1#x+y", PunctuationAudiences.AudienceOf(await oddToken.Content.ReadAsStringAsync()));
        Assert.Equal(kind, reply.Message);
        Assert.Equal("app@demo-project.iam.gserviceaccount.com", reply.Caller.Email);
        Assert.Equal(CloudRunStack.ServiceUrl, reply.Caller.Audience);
        Assert.True(stack.Metadata.IdentityRequests(CloudRunStack.ServiceUrl) >= 1);
    }

    /// <summary>
    /// With <c>--impersonate</c>, an impersonated credentials file's account is one more link of the chain: the file's
    /// source calls IAM through the file's account (and the entry's own delegates) to the entry's account.
    /// </summary>
    [Fact]
    public async Task ImpersonatedFile_WithImpersonate_ChainsThroughTheFilesAccountToTheEntrysAccount()
    {
        const string Reports = "reports@demo-project.iam.gserviceaccount.com";
        const string Hop = "hop@demo-project.iam.gserviceaccount.com";
        await using var stack = await CloudRunStack.StartAsync(metadata: options =>
        {
            options.OtherServiceAccounts.Add(Reports);
            options.OtherServiceAccounts.Add(Hop);
        });
        using var sidecar = await StartAsync(
            stack,
            "impersonated_service_account",
            [.. stack.RouteArgs(), "--impersonate", $"{Reports};delegates={Hop}", "--iam-credentials-url", stack.Metadata.BaseAddress.AbsoluteUri]);

        using var channel = stack.RouteChannel();
        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "chained" }, deadline: TestWait.Deadline());

        Assert.Equal(Reports, reply.Caller.Email);
        var own = "app@demo-project.iam.gserviceaccount.com";
        Assert.All(stack.Metadata.GenerateIdTokenCalls, call => Assert.Equal((own, Reports, $"{own}+{Hop}"), (call.Caller, call.ServiceAccount, string.Join('+', call.Delegates))));
        Assert.NotEmpty(stack.Metadata.GenerateIdTokenCalls);
    }

    [Fact]
    public async Task ServiceAccountKey_EveryPunctuationCharacter_ServedForExactlyThatAudienceOrRefusedNamingIt()
    {
        await using var stack = await CloudRunStack.StartAsync();
        using var sidecar = await StartAsync(stack, "service_account", ["--allow-dynamic-audiences", "true"]);

        var wrong = await PunctuationAudiences.WrongAnswersAsync(sidecar.GetTokenAsync);

        Assert.True(wrong.Length == 0, "asked / answer / aud:\n" + wrong);
    }

    [Fact]
    public async Task UserCredentials_SidecarExits2AtStart_SayingWhatToUseInstead()
    {
        var (exitCode, stderr, madeSocket) = await AdcSidecar.RunAsync(
            """{"type":"authorized_user","client_id":"id.apps.googleusercontent.com","client_secret":"secret","refresh_token":"refresh"}""");

        Assert.Equal(2, exitCode);
        Assert.Contains("authorized_user", stderr, StringComparison.Ordinal);
        Assert.Contains("cannot mint ID tokens", stderr, StringComparison.Ordinal);
        Assert.Contains("--impersonate-service-account", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("refresh", stderr.Replace("refresh_token", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.False(madeSocket);
    }

    [Theory]
    [InlineData("""{"type":"external_account","audience":"//iam.googleapis.com/x","subject_token_type":"urn:ietf:params:oauth:token-type:jwt","token_url":"https://sts.googleapis.com/v1/token","credential_source":{"file":"/tmp/t"}}""", "external_account")]
    [InlineData("""{"type":"service_account"}""", "not a usable credentials file")]
    [InlineData("not json", "not a usable credentials file")]
    public async Task UnusableCredentialsFile_SidecarExits2AtStart(string content, string expected)
    {
        var (exitCode, stderr, _) = await AdcSidecar.RunAsync(content);

        Assert.Equal(2, exitCode);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    /// <summary>The sidecar process with a credentials file of <paramref name="kind"/> made from a key the emulator knows.</summary>
    private static Task<SidecarProcess> StartAsync(CloudRunStack stack, string kind, IReadOnlyList<string> args)
    {
        var key = stack.Metadata.CreateServiceAccountKey();
        return AdcSidecar.StartAsync(stack, kind + ".json", kind == "service_account" ? key : ImpersonatedFile(stack, key), args);
    }

    // As `gcloud auth application-default login --impersonate-service-account` writes it, with a key as the source.
    private static string ImpersonatedFile(CloudRunStack stack, string sourceKey)
    {
        var email = JsonNode.Parse(sourceKey)!["client_email"]!.GetValue<string>();
        return new JsonObject
        {
            ["type"] = "impersonated_service_account",
            ["service_account_impersonation_url"] = new Uri(stack.Metadata.BaseAddress, $"v1/projects/-/serviceAccounts/{email}:generateAccessToken").AbsoluteUri,
            ["delegates"] = new JsonArray(),
            ["source_credentials"] = JsonNode.Parse(sourceKey),
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
