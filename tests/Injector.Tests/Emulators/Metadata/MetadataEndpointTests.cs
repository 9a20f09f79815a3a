using System.Net;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>docs/ARCHITECTURE.md "The emulators", metadata points 1-6: what each path answers.</summary>
public sealed class MetadataEndpointTests
{
    private const string Email = "app@demo-project.iam.gserviceaccount.com";

    public static TheoryData<string, bool, HttpStatusCode> AnyAnswer => new()
    {
        { "/", false, HttpStatusCode.OK },
        { $"{AccountsPath}/default/email", true, HttpStatusCode.OK },
        { $"{AccountsPath}/default/email", false, HttpStatusCode.Forbidden },
        { $"{AccountsPath}/default", true, HttpStatusCode.MovedPermanently },
        { $"{AccountsPath}/default/identity", true, HttpStatusCode.BadRequest },
        { $"{AccountsPath}/nobody@example.com/email", true, HttpStatusCode.NotFound },
        { "/computeMetadata/v1/no-such-thing", true, HttpStatusCode.NotFound },
        { "/oauth2/v3/certs", false, HttpStatusCode.OK },
        { "/emulator/stats", false, HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(AnyAnswer))]
    public async Task EveryResponse_ErrorsIncluded_CarriesMetadataFlavorGoogle(string path, bool flavor, HttpStatusCode expected)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync(path, flavor);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(["Google"], response.Headers.GetValues("Metadata-Flavor"));
    }

    [Fact]
    public async Task Root_WithoutFlavorHeader_Answers200ForTheDetectionProbe()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync("/", flavor: false);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/token")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/identity?audience=https://a.run.app")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/")]
    public async Task MetadataPath_WithoutFlavorHeader_Is403HtmlSayingTheHeaderIsMissing(string path)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync(path, flavor: false);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Missing Metadata-Flavor:Google header", await response.Content.ReadAsStringAsync().Bounded(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetadataPath_WithXForwardedFor_Is403()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{AccountsPath}/default/token");
        request.Headers.Add("Metadata-Flavor", "Google");
        request.Headers.Add("X-Forwarded-For", "10.0.0.7");

        using var response = await client.SendAsync(request).Bounded();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(["Google"], response.Headers.GetValues("Metadata-Flavor"));
    }

    [Theory]
    [InlineData("/computeMetadata", "/computeMetadata/")]
    [InlineData("/computeMetadata/v1", "/computeMetadata/v1/")]
    [InlineData("/computeMetadata/v1/instance", "/computeMetadata/v1/instance/")]
    [InlineData("/computeMetadata/v1/instance/service-accounts", "/computeMetadata/v1/instance/service-accounts/")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default", "/computeMetadata/v1/instance/service-accounts/default/")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default?recursive=true", "/computeMetadata/v1/instance/service-accounts/default/?recursive=true")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/" + Email, "/computeMetadata/v1/instance/service-accounts/" + Email + "/")]
    public async Task DirectoryWithoutTrailingSlash_Is301ToTheSlashForm(string path, string location)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync(path, flavor: true);

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(location, response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("default")]
    [InlineData(Email)]
    public async Task Email_OfDefaultOrNamedAccount_IsPlainText(string account)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync($"{AccountsPath}/{account}/email", flavor: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Email, await response.Content.ReadAsStringAsync().Bounded());
    }

    [Fact]
    public async Task Email_WithConfiguredAccount_ReturnsThatAccount()
    {
        await using var emulator = await StartAsync(o => o.ServiceAccountEmail = "other@p.iam.gserviceaccount.com");
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync($"{AccountsPath}/default/email", flavor: true);

        Assert.Equal("other@p.iam.gserviceaccount.com", await response.Content.ReadAsStringAsync().Bounded());
    }

    [Fact]
    public async Task AccountDirectory_Recursive_IsJsonWithAliasesEmailAndScopes()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync($"{AccountsPath}/default/?recursive=true", flavor: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync().Bounded());
        Assert.Equal(["default"], json.RootElement.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(Email, json.RootElement.GetProperty("email").GetString());
        Assert.NotEmpty(json.RootElement.GetProperty("scopes").EnumerateArray());
    }

    [Theory]
    [InlineData("default")]
    [InlineData(Email)]
    public async Task Token_OfDefaultOrNamedAccount_IsBearerAccessTokenJson(string account)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync($"{AccountsPath}/{account}/token", flavor: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync().Bounded());
        Assert.StartsWith("ya29.", json.RootElement.GetProperty("access_token").GetString(), StringComparison.Ordinal);
        Assert.Equal(3599, json.RootElement.GetProperty("expires_in").GetInt32());
        Assert.Equal("Bearer", json.RootElement.GetProperty("token_type").GetString());
    }

    [Theory]
    [InlineData("default", "")]
    [InlineData("default", "&format=standard")]
    [InlineData("default", "&format=full&licenses=TRUE")]
    [InlineData(Email, "&format=full&licenses=FALSE")]
    public async Task Identity_IsTheRawJwtAsHtmlNeverJson(string account, string extraQuery)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync($"{AccountsPath}/{account}/identity?audience=https://svc.a.run.app{extraQuery}", flavor: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync().Bounded();
        Assert.Equal(3, body.Split('.').Length);
        Assert.StartsWith("eyJ", body, StringComparison.Ordinal);
    }

    // The table: what the server reads back from a raw query, as Google's (Go) metadata server does.
    [Theory]
    [InlineData("https://y.run.app&foo=1", "https://y.run.app")]
    [InlineData("https%3A%2F%2Fy.run.app%26foo%3D1", "https://y.run.app&foo=1")]
    [InlineData("https://y.run.app%23frag", "https://y.run.app#frag")]
    [InlineData("a+b", "a b")]
    [InlineData("a%2Bb", "a+b")]
    [InlineData("%23abc", "#abc")]
    [InlineData("100%25%3F%3D", "100%?=")]
    public async Task Identity_DecodesTheAudienceAsGoNetUrl(string rawAudience, string expectedAud)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        var jwt = await client.GetIdentityTokenAsync(rawAudience);

        Assert.Equal(expectedAud, DecodeSegment(jwt, 1).GetProperty("aud").GetString());
        Assert.Equal(1, emulator.IdentityRequests(expectedAud));
    }

    [Fact]
    public async Task Identity_WithAnUnencodedHash_SeesAnEmptyAudienceAndIs400()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        // HttpClient drops everything from the '#': the server sees "?audience=" and nothing else.
        using var response = await client.SendMetadataAsync($"{AccountsPath}/default/identity?audience=#abc", flavor: true);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("non-empty audience parameter required", await response.Content.ReadAsStringAsync().Bounded());
    }

    [Theory]
    [InlineData("")]
    [InlineData("?audience=")]
    [InlineData("?format=full")]
    [InlineData("?audience&format=full")]
    public async Task Identity_WithoutAudience_Is400(string query)
    {
        var (status, body) = await AskFreshEmulatorAsync($"{AccountsPath}/default/identity{query}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("non-empty audience parameter required", body);
    }

    [Theory]
    [InlineData("nobody@example.com/identity?audience=https://a.run.app")]
    [InlineData("nobody@example.com/token")]
    [InlineData("nobody@example.com/email")]
    [InlineData("nobody@example.com/")]
    public async Task UnknownAccount_Is404(string rest)
    {
        var (status, _) = await AskFreshEmulatorAsync($"{AccountsPath}/{rest}");

        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    /// <summary>One request with the flavor header to an emulator of its own: the status and the body.</summary>
    private static async Task<(HttpStatusCode Status, string Body)> AskFreshEmulatorAsync(string path)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        using var response = await client.SendMetadataAsync(path, flavor: true);
        return (response.StatusCode, await response.Content.ReadAsStringAsync().Bounded());
    }

    [Theory]
    [InlineData("audience=https://svc-abc.a.run.app&format=full", "https://svc-abc.a.run.app")]
    [InlineData("audience=https%3A%2F%2Fsvc-abc.a.run.app&format=full", "https://svc-abc.a.run.app")]
    [InlineData("format=full&audience=https://svc-abc.a.run.app/", "https://svc-abc.a.run.app/")]
    [InlineData("audience=custom-audience", "custom-audience")]
    [InlineData("audience=https://svc.example.com:8443/x", "https://svc.example.com:8443/x")]
    public async Task Identity_AudienceParsedLeniently_AudClaimIsExactlyAsSent(string query, string expectedAudience)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync($"{AccountsPath}/default/identity?{query}", flavor: true);

        var jwt = await response.Content.ReadAsStringAsync().Bounded();
        Assert.Equal(expectedAudience, DecodeSegment(jwt, 1).GetProperty("aud").GetString());
        Assert.Equal(1, emulator.IdentityRequests(expectedAudience));
    }
}
