using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using TokenInjector.Hosting;
using TokenInjector.Tests.Support;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Serving;

/// <summary>The token API over its real Unix socket, with a fake token source behind it.</summary>
public sealed class TokenApiTests
{
    private const string Audience = "https://svc-abc.a.run.app";

    [Fact]
    public async Task ConfiguredAudience_TextAndJsonForms()
    {
        await using var sidecar = await StartAsync(["--audience", Audience]);

        using var text = await sidecar.GetTokenAsync(Audience);
        using var json = await sidecar.GetTokenAsync(Audience, json: true);

        Assert.Equal(HttpStatusCode.OK, text.StatusCode);
        Assert.Equal("text/plain", text.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no-store", text.Headers.CacheControl!.ToString());
        var token = await text.Content.ReadAsStringAsync();
        Assert.Equal(3, token.Split('.').Length);
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        using var body = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        Assert.Equal(token, body.RootElement.GetProperty("token").GetString());
        Assert.Equal(Audience, body.RootElement.GetProperty("audience").GetString());
        var expiresAt = DateTimeOffset.Parse(body.RootElement.GetProperty("expiresAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(IdToken.Parse(token).ExpiresAt, expiresAt);
    }

    [Fact]
    public async Task SocketFile_HasMode0660_AndIsRemovedOnStop()
    {
        var sidecar = await StartAsync(["--audience", Audience]);
        var path = sidecar.Settings.SocketPath;

        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            File.GetUnixFileMode(path));
        await sidecar.DisposeAsync();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task DynamicAudiencesOff_UnconfiguredAudience_Is403()
    {
        await using var sidecar = await StartAsync(["--audience", Audience, "--allow-dynamic-audiences", "false"]);

        using var response = await sidecar.GetTokenAsync("https://elsewhere.example");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("dynamic audiences are off", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoTokenCanBeHad_Is503WithRetryAfter_AndSaysWhy()
    {
        var source = new FakeIdTokenSource(TimeProvider.System, TimeSpan.FromHours(1))
        {
            Failure = new TokenFetchException(TokenFetchException.Unreachable, "the token endpoint could not be reached: Connection refused"),
        };
        await using var sidecar = await StartAsync(["--audience", Audience], source);

        using var response = await sidecar.GetTokenAsync(Audience);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.RetryAfter!.Delta >= TimeSpan.FromSeconds(1));
        Assert.Contains("Connection refused", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await sidecar.ReadinessAsync());
    }

    public static TheoryData<string, string, HttpStatusCode, string> BadRequests => new()
    {
        { "missing audience", "/v1/token", HttpStatusCode.BadRequest, "missing audience" },
        { "empty audience", "/v1/token?audience=", HttpStatusCode.BadRequest, "empty" },
        { "two audiences", "/v1/token?audience=a&audience=b", HttpStatusCode.BadRequest, "exactly one" },
        { "10 KB audience", "/v1/token?audience=" + new string('a', 10 * 1024), HttpStatusCode.BadRequest, "at most 1024" },
        { "control character", "/v1/token?audience=a%0Ab", HttpStatusCode.BadRequest, "printable ASCII" },
        { "1 MB query", "/v1/token?audience=" + new string('a', 1024 * 1024), HttpStatusCode.RequestUriTooLong, "query too long" },
        { "unknown path", "/v2/secrets", HttpStatusCode.NotFound, "GET /v1/token?audience=AUDIENCE" },
        { "root path", "/", HttpStatusCode.NotFound, "GET /v1/token?audience=AUDIENCE" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadRequest_Gets4xxWithAClearBody(string name, string pathAndQuery, HttpStatusCode expected, string bodyPart)
    {
        await using var sidecar = await StartAsync(["--audience", Audience]);

        using var response = await sidecar.Socket.GetAsync(pathAndQuery).Bounded();

        Assert.True(expected == response.StatusCode, name);
        Assert.Contains(bodyPart, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var stillServing = await sidecar.GetTokenAsync(Audience);
        Assert.Equal(HttpStatusCode.OK, stillServing.StatusCode);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task NonGetMethod_Is405WithAllow(string method)
    {
        await using var sidecar = await StartAsync(["--audience", Audience]);

        using var response = await sidecar.Socket.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/v1/token?audience=" + Audience)
        {
            Content = new StringContent("x"),
        }).Bounded();

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("GET", response.Content.Headers.Allow.Single());
    }

    [Theory]
    [InlineData("garbage bytes", "\u0001\u0002\u0003 not http at all\r\n\r\n")]
    [InlineData("bad request line", "GET\r\n\r\n")]
    [InlineData("huge header", "GET /v1/token?audience=a HTTP/1.1\r\nHost: x\r\nX-Big: {BIG}\r\n\r\n")]
    [InlineData("half a request then close", "GET /v1/tok")]
    public async Task MalformedRawInput_IsRejected_AndTheServerKeepsServing(string name, string raw)
    {
        await using var sidecar = await StartAsync(["--audience", Audience]);

        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(sidecar.Settings.SocketPath)).Bounded();
            await socket.SendAsync(Encoding.ASCII.GetBytes(raw.Replace("{BIG}", new string('x', 128 * 1024), StringComparison.Ordinal)));
            if (name != "half a request then close")
            {
                var buffer = new byte[4096];
                var read = await socket.ReceiveAsync(buffer).Bounded();
                var answer = Encoding.ASCII.GetString(buffer, 0, read);
                Assert.StartsWith("HTTP/1.1 4", answer, StringComparison.Ordinal);
                if (name == "garbage bytes")
                {
                    Assert.EndsWith("use GET /v1/token?audience=AUDIENCE\n", answer, StringComparison.Ordinal);
                }
            }
        }

        using var response = await sidecar.GetTokenAsync(Audience);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TokenDirectory_GetsOneFilePerConfiguredAudience_RewrittenOnRefresh()
    {
        using var tokens = new TempDirectory();
        var clock = new SteppingClock();
        var source = new FakeIdTokenSource(clock, TimeSpan.FromSeconds(20));
        await using var sidecar = await StartAsync(["--audience", Audience, "--token-dir", tokens.Path], source, clock);
        var file = Path.Combine(tokens.Path, "svc-abc.a.run.app");
        using var first = await sidecar.GetTokenAsync(Audience);
        var firstToken = await first.Content.ReadAsStringAsync();
        var issued = clock.GetUtcNow();

        Assert.Equal(firstToken, await File.ReadAllTextAsync(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(file));
        // The refresh loop's next wake-up is the refresh, well inside the first token's life.
        await clock.AdvanceToNextWakeAsync();
        Assert.True(clock.GetUtcNow() - issued <= TimeSpan.FromSeconds(15), $"refreshed {clock.GetUtcNow() - issued} into a 20 s token");
        await TestWait.UntilAsync(() => File.ReadAllText(file) != firstToken);

        var secondToken = await File.ReadAllTextAsync(file);
        Assert.Equal(3, secondToken.Split('.').Length);
        Assert.Equal(2, source.Calls(Audience));
        Assert.Equal(["_index.json", "svc-abc.a.run.app"], Directory.GetFiles(tokens.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TokenDirectory_AudiencesThatDifferOnlyInReplacedCharacters_GetAFileEach_NamedInTheIndex()
    {
        using var tokens = new TempDirectory();
        string[] audiences = ["https://x.run.app/a&b", "https://x.run.app/a#b", "https://x.run.app/a/b", "https://x.run.app/a_b", "https://x.run.app"];
        await using var sidecar = await StartAsync([.. audiences.SelectMany(a => new[] { "--audience", a }), "--token-dir", tokens.Path]);
        foreach (var audience in audiences)
        {
            using var answer = await sidecar.GetTokenAsync(audience);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        using var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(tokens.Path, "_index.json")));
        var files = index.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal(audiences.Order(StringComparer.Ordinal), files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(audiences.Length, files.Values.Distinct().Count());
        Assert.Equal("x.run.app", files["https://x.run.app"]);
        foreach (var audience in audiences)
        {
            var path = Path.Combine(tokens.Path, files[audience]);
            await TestWait.UntilAsync(() => File.Exists(path));
            Assert.Equal(audience, PunctuationAudiences.AudienceOf(await File.ReadAllTextAsync(path)));
        }
    }

    private static Task<RunningSidecar> StartAsync(string[] args, FakeIdTokenSource? source = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        return RunningSidecar.StartAsync(args, new SidecarHostOverrides
        {
            Time = time,
            TokenSource = source ?? new FakeIdTokenSource(time, TimeSpan.FromHours(1)),
        });
    }
}
