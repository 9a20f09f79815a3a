using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using TokenInjector.Emulators.Identity;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;

namespace TokenInjector.Tests.Emulators.GoogleApis;

/// <summary>Google's OAuth2 token endpoint and generateIdToken as the emulator serves them, checked with Google.Apis.Auth.</summary>
public sealed class GoogleTokenEndpointTests
{
    private const string Audience = "https://svc-abc.a.run.app&x=1#y+z";

    [Fact]
    public async Task ServiceAccountKey_JwtBearerGrantWithTargetAudience_IdTokenForExactlyThatAudience_VerifiesWithGoogleApisAuth()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        var key = CredentialFactory.FromJson<ServiceAccountCredential>(emulator.CreateServiceAccountKey());

        var oidc = await key.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(Audience)).Bounded();
        var idToken = await oidc.GetAccessTokenAsync().Bounded();

        var payload = await VerifyWithGoogleLibraryAsync(emulator, idToken, Audience);
        Assert.Equal(Audience, payload.Audience);
        Assert.Equal(1, emulator.IdentityRequests(Audience));
    }

    [Fact]
    public async Task AssertionSignedWithAnotherKey_IsRefusedAsInvalidGrant()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        using var keyFile = JsonDocument.Parse(emulator.CreateServiceAccountKey());
        using var otherKey = RSA.Create(2048);
        var assertion = Assertion(keyFile.RootElement.GetProperty("private_key_id").GetString()!, otherKey, """{"target_audience":"x"}""");

        using var response = await PostGrantAsync(client, assertion);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_grant", error.RootElement.GetProperty("error").GetString());
        Assert.Equal(0, emulator.IdentityRequests("x"));
    }

    [Fact]
    public async Task EmptyBody_IsRefusedWith400()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.PostAsync("/token", new ByteArrayContent([]) { Headers = { ContentType = new("application/x-www-form-urlencoded") } }).Bounded();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("unsupported_grant_type", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateIdToken_WithAnAccessTokenFromTheKey_ReturnsTheToken_WithoutOne_Is401()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        var key = CredentialFactory.FromJson<ServiceAccountCredential>(emulator.CreateServiceAccountKey()).ToGoogleCredential()
            .CreateScoped("https://www.googleapis.com/auth/cloud-platform");
        var accessToken = await ((ITokenAccess)key).GetAccessTokenForRequestAsync().Bounded();
        var url = $"/v1/projects/-/serviceAccounts/{new MetadataEmulatorOptions().ServiceAccountEmail}:generateIdToken";

        using var anonymous = await client.PostAsJsonAsync(url, new { audience = Audience, includeEmail = true }).Bounded();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(new { audience = Audience, includeEmail = true }) };
        request.Headers.Authorization = new("Bearer", accessToken);
        using var authorized = await client.SendAsync(request).Bounded();

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        using var body = JsonDocument.Parse(await authorized.Content.ReadAsStringAsync());
        var token = body.RootElement.GetProperty("token").GetString()!;
        Assert.Equal(Audience, PunctuationAudiences.AudienceOf(token));
        Assert.True(await VerifiesAgainstJwksAsync(client, emulator, token));
    }

    [Fact]
    public async Task WrongAudienceSwitch_OverTheControlApi_EveryIdTokenNamesAnotherAudience()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        using (var set = await client.PostAsync("/emulator/faults", new StringContent("""{"wrongAudience":true}""", Encoding.UTF8, "application/json")).Bounded())
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var key = CredentialFactory.FromJson<ServiceAccountCredential>(emulator.CreateServiceAccountKey());
        var fromKey = await (await key.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience("https://a.run.app")).Bounded()).GetAccessTokenAsync().Bounded();
        var fromMetadata = await client.GetIdentityTokenAsync("https%3A%2F%2Fb.run.app");

        Assert.Equal("https://a.run.app" + IdentityTokenIssuer.WrongAudienceSuffix, PunctuationAudiences.AudienceOf(fromKey));
        Assert.Equal("https://b.run.app" + IdentityTokenIssuer.WrongAudienceSuffix, PunctuationAudiences.AudienceOf(fromMetadata));
    }

    [Fact]
    public async Task ServiceAccountKey_FromTheControlApi_NamesThisEmulatorsTokenEndpoint()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.PostAsync("/emulator/service-account-key", null).Bounded();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var file = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("service_account", file.RootElement.GetProperty("type").GetString());
        Assert.Equal(new Uri(emulator.BaseAddress, "token").AbsoluteUri, file.RootElement.GetProperty("token_uri").GetString());
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", file.RootElement.GetProperty("private_key").GetString(), StringComparison.Ordinal);
    }

    private static string Assertion(string keyId, RSA key, string extraClaims)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"RS256","kid":"{{keyId}}","typ":"JWT"}"""));
        var claims = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            $$"""{"iss":"{{new MetadataEmulatorOptions().ServiceAccountEmail}}","aud":"https://oauth2.googleapis.com/token","iat":{{now}},"exp":{{now + 3600}},{{extraClaims[1..^1]}}}"""));
        var signature = key.SignData(Encoding.ASCII.GetBytes(header + "." + claims), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return header + "." + claims + "." + Base64Url.EncodeToString(signature);
    }

    private static Task<HttpResponseMessage> PostGrantAsync(HttpClient client, string assertion) =>
        client.PostAsync("/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
            ["assertion"] = assertion,
        })).Bounded();
}
