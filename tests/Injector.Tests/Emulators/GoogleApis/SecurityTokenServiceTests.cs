using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TokenInjector.DevStack.Stack;
using TokenInjector.Emulators.GoogleApis;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;

namespace TokenInjector.Tests.Emulators.GoogleApis;

/// <summary>
/// The emulator's Security Token Service as a client of Google's sees it on the wire: RFC 8693 form in, a federated
/// access token out that generateIdToken takes, and Google's 400 <c>error</c>/<c>error_description</c> answers.
/// </summary>
public sealed class SecurityTokenServiceTests
{
    private const string Subject = ExternalAccountFile.KubernetesSubject;

    [Theory]
    [InlineData(SecurityTokenService.AllowedAudience)]
    [InlineData(SecurityTokenService.ProviderAudience)]
    public async Task TrustedSubjectToken_ExchangedForAFederatedToken_ThatGenerateIdTokenTakes(string subjectTokenAudience)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var exchange = await ExchangeAsync(client, Form(emulator.Sts.MintSubjectToken(Subject, subjectTokenAudience)));
        using var answer = JsonDocument.Parse(await exchange.Content.ReadAsStringAsync());
        var federated = answer.RootElement.GetProperty("access_token").GetString()!;
        using var idToken = await GenerateIdTokenAsync(client, federated);

        Assert.Equal(HttpStatusCode.OK, exchange.StatusCode);
        Assert.Equal("urn:ietf:params:oauth:token-type:access_token", answer.RootElement.GetProperty("issued_token_type").GetString());
        Assert.Equal("Bearer", answer.RootElement.GetProperty("token_type").GetString());
        Assert.Equal(3599, answer.RootElement.GetProperty("expires_in").GetInt64());
        Assert.Equal(HttpStatusCode.OK, idToken.StatusCode);
        using var token = JsonDocument.Parse(await idToken.Content.ReadAsStringAsync());
        var claims = DecodeSegment(token.RootElement.GetProperty("token").GetString()!, 1);
        Assert.Equal("https://svc.a.run.app", claims.GetProperty("aud").GetString());
        Assert.Equal(new MetadataEmulatorOptions().ServiceAccountEmail, claims.GetProperty("email").GetString());
        var recorded = Assert.Single(emulator.Sts.Exchanges);
        Assert.Equal(new StsExchange(
            "urn:ietf:params:oauth:grant-type:token-exchange", SecurityTokenService.ProviderAudience, "https://www.googleapis.com/auth/cloud-platform",
            "urn:ietf:params:oauth:token-type:access_token", "urn:ietf:params:oauth:token-type:jwt", Subject, Error: null), recorded);
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "grant_type", "unsupported_grant_type" },
        { "requested_token_type", "invalid_request" },
        { "subject_token_type", "invalid_request" },
        { "audience", "invalid_target" },
        { "subject_token", "invalid_grant" },
        { "subject_token_audience", "invalid_grant" },
        { "subject_token_signature", "invalid_grant" },
        { "no_subject_token", "invalid_request" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task BadExchange_400WithOAuthErrorJson_NoFederatedToken(string wrong, string error)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        var trusted = emulator.Sts.MintSubjectToken(Subject);
        var form = Form(trusted);
        switch (wrong)
        {
            case "grant_type": form[wrong] = "urn:ietf:params:oauth:grant-type:jwt-bearer"; break;
            case "requested_token_type": form[wrong] = "urn:ietf:params:oauth:token-type:id_token"; break;
            case "subject_token_type": form[wrong] = "urn:ietf:params:oauth:token-type:saml2"; break;
            case "audience": form[wrong] = SecurityTokenService.ProviderAudience.Replace("emulator-oidc", "other", StringComparison.Ordinal); break;
            case "subject_token": form[wrong] = "not-a-jwt"; break;
            case "subject_token_audience": form["subject_token"] = emulator.Sts.MintSubjectToken(Subject, "https://elsewhere.example.com"); break;
            case "subject_token_signature": form["subject_token"] = trusted[..^4] + (trusted.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA"); break;
            case "no_subject_token": form.Remove("subject_token"); break;
        }

        using var response = await ExchangeAsync(client, form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(error, body.RootElement.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("error_description").GetString()));
        Assert.Equal(error, Assert.Single(emulator.Sts.Exchanges).Error);
    }

    [Fact]
    public async Task SubjectOutOfTheIamBinding_GenerateIdTokenAnswers403PermissionDenied()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        emulator.Sts.Deny(Subject);
        using var exchange = await ExchangeAsync(client, Form(emulator.Sts.MintSubjectToken(Subject)));
        using var answer = JsonDocument.Parse(await exchange.Content.ReadAsStringAsync());

        using var idToken = await GenerateIdTokenAsync(client, answer.RootElement.GetProperty("access_token").GetString()!);

        Assert.Equal(HttpStatusCode.Forbidden, idToken.StatusCode);
        using var error = JsonDocument.Parse(await idToken.Content.ReadAsStringAsync());
        Assert.Equal("PERMISSION_DENIED", error.RootElement.GetProperty("error").GetProperty("status").GetString());
    }

    [Fact]
    public async Task SubjectTokenUrl_WantsTheMetadataHeader_AndAnswersTextOrJson()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var bare = await client.GetAsync(ExternalAccountFile.SubjectTokenUrl(emulator.BaseAddress, Subject, json: false)).Bounded();
        client.DefaultRequestHeaders.Add("Metadata", "true");
        var text = await client.GetStringAsync(ExternalAccountFile.SubjectTokenUrl(emulator.BaseAddress, Subject, json: false)).Bounded();
        using var json = JsonDocument.Parse(await client.GetStringAsync(ExternalAccountFile.SubjectTokenUrl(emulator.BaseAddress, Subject, json: true)).Bounded());

        Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);
        Assert.Equal(Subject, DecodeSegment(text, 1).GetProperty("sub").GetString());
        Assert.Equal(SecurityTokenService.SubjectIssuer, DecodeSegment(json.RootElement.GetProperty("access_token").GetString()!, 1).GetProperty("iss").GetString());
    }

    private static Dictionary<string, string> Form(string subjectToken) => new()
    {
        ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
        ["audience"] = SecurityTokenService.ProviderAudience,
        ["scope"] = "https://www.googleapis.com/auth/cloud-platform",
        ["requested_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
        ["subject_token"] = subjectToken,
        ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
    };

    private static async Task<HttpResponseMessage> ExchangeAsync(HttpClient client, Dictionary<string, string> form)
    {
        using var content = new FormUrlEncodedContent(form);
        return await client.PostAsync(new Uri("v1/token", UriKind.Relative), content).Bounded();
    }

    private static async Task<HttpResponseMessage> GenerateIdTokenAsync(HttpClient client, string accessToken)
    {
        using var request = new HttpRequestMessage(
            HttpMethod.Post, $"v1/projects/-/serviceAccounts/{new MetadataEmulatorOptions().ServiceAccountEmail}:generateIdToken")
        {
            Content = JsonContent.Create(new Dictionary<string, object> { ["audience"] = "https://svc.a.run.app", ["includeEmail"] = true }),
        };
        request.Headers.Authorization = new("Bearer", accessToken);
        return await client.SendAsync(request).Bounded();
    }
}
