using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace TokenInjector.Tests.SampleWorkload;

[Collection(EchoServerGroup.Name)]
public sealed class WhoAmIEndpointTests(EchoServerFixture server)
{
    [Fact]
    public async Task WhoAmI_OverHttp2PriorKnowledge_ReturnsEmailAndAudience()
    {
        using var client = Http2Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Address, "/whoami"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Bearer", TestJwt.Google("app@proj.iam.gserviceaccount.com", "https://svc.example", 1, 2));

        using var response = await client.SendAsync(request).WaitAsync(EchoServerFixture.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var body = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>().WaitAsync(EchoServerFixture.Timeout);

        Assert.Equal("app@proj.iam.gserviceaccount.com", body!["email"]);
        Assert.Equal("https://svc.example", body["audience"]);
    }

    [Fact]
    public async Task WhoAmI_WithoutToken_ReturnsEmptyIdentity()
    {
        using var client = Http2Client();

        var body = await client.GetFromJsonAsync<Dictionary<string, string>>(new Uri(server.Address, "/whoami"))
            .WaitAsync(EchoServerFixture.Timeout);

        Assert.Equal("", body!["email"]);
        Assert.Equal("", body["audience"]);
    }

    // The server is h2c only, as Cloud Run's HTTP/2 end-to-end mode requires; HTTP/1.1 would be refused.
    private static HttpClient Http2Client() => new()
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
