using System.Net;
using System.Text.Json;
using TokenInjector.Tests.Emulators.Metadata;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.MetadataApi.MetadataEndpointClient;

namespace TokenInjector.Tests.MetadataApi;

/// <summary>
/// The sidecar's metadata endpoint (<c>--metadata PORT</c>) in front of the metadata emulator, in-process, over real
/// loopback sockets: identity answers from the token cache, the real server's edges, and every other path forwarded
/// byte for byte, long polls included.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class MetadataEndpointTests
{
    private const string Audience = "https://svc-abc.a.run.app";

    [Fact]
    public async Task Identity_IsTheCachedRawJwt_WithTheServersHeaders_AndOneFetchPerForm()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var port = FreePort.Next();
        await stack.StartSidecarAsync(["--audience", Audience, "--metadata", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var client = For($"127.0.0.1:{port}");

        var full = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => BodyAsync(client, IdentityPath(Audience)))).Bounded();
        using var answer = await client.GetAsync(IdentityPath(Audience), flavor: true);
        var standard = await BodyAsync(client, IdentityPath(Audience, "&format=standard"));
        var standardAgain = await BodyAsync(client, IdentityPath(Audience, string.Empty));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("Google", answer.Headers.GetValues("Metadata-Flavor").Single());
        Assert.Equal("text/html", answer.Content.Headers.ContentType?.MediaType);
        Assert.Single(full.Distinct());
        Assert.Equal(Audience, MetadataTestSupport.DecodeSegment(full[0], 1).GetProperty("aud").GetString());
        Assert.True(MetadataTestSupport.DecodeSegment(full[0], 1).TryGetProperty("email", out _));
        Assert.False(MetadataTestSupport.DecodeSegment(standard, 1).TryGetProperty("email", out _));
        Assert.Equal(standard, standardAgain);
        Assert.Equal(2, stack.Metadata.IdentityRequests(Audience)); // the configured (full) token, and the standard one
    }

    [Fact]
    public async Task Edges_AsTheRealServer_AndNoTokenInAnyRefusal()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var port = FreePort.Next();
        await stack.StartSidecarAsync(["--audience", Audience, "--metadata", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var client = For($"127.0.0.1:{port}");

        using var noFlavor = await client.GetAsync(IdentityPath(Audience), flavor: false);
        using var noFlavorPassThrough = await client.GetAsync("/computeMetadata/v1/project/project-id", flavor: false);
        using var forwarded = await client.GetAsync(IdentityPath(Audience), flavor: true, ("X-Forwarded-For", "10.0.0.1"));
        using var forwardedPassThrough = await client.GetAsync("/computeMetadata/v1/project/project-id", flavor: true, ("X-Forwarded-For", "10.0.0.1"));
        using var elsewhere = await client.GetAsync("/emulator/stats", flavor: true);
        using var noAudience = await client.GetAsync(Identity + "?format=full", flavor: true);
        using var badFormat = await client.GetAsync(IdentityPath(Audience, "&format=compact"), flavor: true);
        using var post = new HttpRequestMessage(HttpMethod.Post, IdentityPath(Audience));
        post.Headers.Add("Metadata-Flavor", "Google");
        using var posted = await client.SendAsync(post).Bounded();

        foreach (var refused in new[] { noFlavor, noFlavorPassThrough, forwarded, forwardedPassThrough })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("text/html", refused.Content.Headers.ContentType?.MediaType);
        }

        Assert.Contains("Missing Metadata-Flavor:Google header", await noFlavor.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("X-Forwarded-For", await forwarded.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noAudience.StatusCode);
        Assert.Equal("non-empty audience parameter required", await noAudience.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, badFormat.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, posted.StatusCode);
        foreach (var response in new[] { noFlavor, noFlavorPassThrough, forwarded, forwardedPassThrough, elsewhere, noAudience, badFormat, posted })
        {
            Assert.Equal("Google", response.Headers.GetValues("Metadata-Flavor").Single());
            Assert.DoesNotContain("eyJ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(1, stack.Metadata.IdentityRequests(Audience)); // refusals never reached the metadata server
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/?recursive=true")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/email")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/")]
    [InlineData("/computeMetadata/v1/instance/attributes/?recursive=true")]
    [InlineData("/computeMetadata/v1/instance/attributes/color")]
    [InlineData("/computeMetadata/v1/project/project-id")]
    [InlineData("/computeMetadata/v1/universe/universe-domain")]
    [InlineData("/computeMetadata/v1/no/such/path")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/nobody@example.com/identity?audience=https://a.run.app")]
    public async Task PassThrough_IsByteIdenticalToADirectRequest(string pathAndQuery)
    {
        await using var stack = await CloudRunStack.StartAsync();
        stack.Metadata.SetAttribute("color", "blue");
        stack.Metadata.SetAttribute("size", "10");
        var port = FreePort.Next();
        await stack.StartSidecarAsync(["--audience", Audience, "--metadata", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var viaSidecar = For($"127.0.0.1:{port}");
        using var direct = For(stack.Metadata.HostAndPort);

        using var expected = await direct.GetAsync(pathAndQuery, flavor: true);
        using var actual = await viaSidecar.GetAsync(pathAndQuery, flavor: true);

        Assert.Equal(expected.StatusCode, actual.StatusCode);
        Assert.Equal(await expected.Content.ReadAsByteArrayAsync(), await actual.Content.ReadAsByteArrayAsync());
        foreach (var header in new[] { "Metadata-Flavor", "ETag", "Location" })
        {
            Assert.Equal(
                expected.Headers.TryGetValues(header, out var e) ? string.Join(",", e) : null,
                actual.Headers.TryGetValues(header, out var a) ? string.Join(",", a) : null);
        }

        Assert.Equal(expected.Content.Headers.ContentType, actual.Content.Headers.ContentType);
    }

    [Fact]
    public async Task PassThrough_AccessToken_IsTheServersAnswer()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var port = FreePort.Next();
        await stack.StartSidecarAsync(["--audience", Audience, "--metadata", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var client = For($"127.0.0.1:{port}");

        using var response = await client.GetAsync("/computeMetadata/v1/instance/service-accounts/default/token", flavor: true);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("ya29.", json.RootElement.GetProperty("access_token").GetString(), StringComparison.Ordinal);
        Assert.Equal(3599, json.RootElement.GetProperty("expires_in").GetInt32());
    }

    [Fact]
    public async Task WaitForChange_StaysOpenThroughTheSidecar_AndEndsWhenTheValueChanges()
    {
        await using var stack = await CloudRunStack.StartAsync();
        stack.Metadata.SetAttribute("color", "blue");
        var port = FreePort.Next();
        await stack.StartSidecarAsync(["--audience", Audience, "--metadata", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var client = For($"127.0.0.1:{port}");
        using var first = await client.GetAsync("/computeMetadata/v1/instance/attributes/color", flavor: true);
        var etag = first.Headers.GetValues("ETag").Single();

        var poll = client.GetAsync($"/computeMetadata/v1/instance/attributes/color?wait_for_change=true&last_etag={etag}", flavor: true);
        stack.Metadata.SetAttribute("other", "x");
        using (var roundTrip = await client.GetAsync("/computeMetadata/v1/instance/attributes/other", flavor: true))
        {
            Assert.Equal("x", await roundTrip.Content.ReadAsStringAsync());
        }

        Assert.False(poll.IsCompleted, "the long poll answered before its value changed");
        stack.Metadata.SetAttribute("color", "red");
        using var answer = await poll.Bounded();

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("red", await answer.Content.ReadAsStringAsync());
        Assert.NotEqual(etag, answer.Headers.GetValues("ETag").Single());
    }

    [Fact]
    public async Task LearnedAudiences_BeyondTheBound_Are429WithAClearBody_AndKnownOnesStillServed()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var port = FreePort.Next();
        var sidecar = await stack.StartSidecarAsync(["--audience", Audience, "--metadata", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--max-dynamic-audiences", "2"]);
        using var client = For($"127.0.0.1:{port}");

        using var first = await client.GetAsync(IdentityPath("https://one.a.run.app"), flavor: true);
        using var second = await client.GetAsync(IdentityPath("https://two.a.run.app"), flavor: true);
        using var third = await client.GetAsync(IdentityPath("https://three.a.run.app"), flavor: true);
        using var firstAgain = await client.GetAsync(IdentityPath("https://one.a.run.app"), flavor: true);
        using var configured = await client.GetAsync(IdentityPath(Audience), flavor: true);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        var body = await third.Content.ReadAsStringAsync();
        Assert.Contains("2 learned audiences are cached already", body, StringComparison.Ordinal);
        Assert.Contains("--audience", body, StringComparison.Ordinal);
        Assert.True(third.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal("Google", third.Headers.GetValues("Metadata-Flavor").Single());
        Assert.Equal(HttpStatusCode.OK, firstAgain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, configured.StatusCode);
        Assert.Equal(0, stack.Metadata.IdentityRequests("https://three.a.run.app"));
        Assert.Equal(1, stack.Metadata.IdentityRequests("https://one.a.run.app"));
        var metrics = await sidecar.MetricsOnceTheyShowAsync("token_injector_metadata_endpoint_requests_total{kind=\"identity\",code=\"200\"} 4");
        Assert.Contains("token_injector_metadata_endpoint_requests_total{kind=\"identity\",code=\"429\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("three.a.run.app", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoTokenToBeHad_Is503WithinTheFetchTimeout_NeverAHang()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var port = FreePort.Next();
        await stack.StartSidecarAsync(["--metadata", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--fetch-timeout", "500ms"]);
        using var client = For($"127.0.0.1:{port}");
        stack.Metadata.Faults.Hang = true;

        using var hung = await client.GetAsync(IdentityPath("https://hung.a.run.app"), flavor: true);
        stack.Metadata.Faults.Hang = false;
        stack.Metadata.Faults.Status = 500;
        using var failed = await client.GetAsync(IdentityPath("https://failing.a.run.app"), flavor: true);

        foreach (var response in new[] { hung, failed })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Contains("no ID token", body, StringComparison.Ordinal);
            Assert.DoesNotContain("eyJ", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NamedAccount_OfTheDefaultAccount_IsServedFromTheCache()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var port = FreePort.Next();
        await stack.StartSidecarAsync(["--audience", Audience, "--metadata", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var client = For($"127.0.0.1:{port}");
        using var emailAnswer = await client.GetAsync("/computeMetadata/v1/instance/service-accounts/default/email", flavor: true);
        var email = await emailAnswer.Content.ReadAsStringAsync();

        var byName = await BodyAsync(client, $"/computeMetadata/v1/instance/service-accounts/{email}/identity?audience={Uri.EscapeDataString(Audience)}&format=full");
        var byDefault = await BodyAsync(client, IdentityPath(Audience));

        Assert.Equal(byDefault, byName);
        Assert.Equal(1, stack.Metadata.IdentityRequests(Audience));
    }

    private static async Task<string> BodyAsync(HttpClient client, string pathAndQuery)
    {
        using var response = await client.GetAsync(pathAndQuery, flavor: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
