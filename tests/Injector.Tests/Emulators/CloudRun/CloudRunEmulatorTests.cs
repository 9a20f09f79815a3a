using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using TokenInjector.Emulators.CloudRun;
using TokenInjector.Tests.Support;
using TokenInjector.Tests.Support.Grpc;
using static TokenInjector.Tests.Emulators.CloudRun.CloudRunEmulatorFixture;

namespace TokenInjector.Tests.Emulators.CloudRun;

public sealed class CloudRunEmulatorTests(CloudRunEmulatorFixture fixture) : IClassFixture<CloudRunEmulatorFixture>
{
    private TestTokenIssuer Issuer => fixture.Issuer;

    [Fact]
    public async Task Unary_ValidToken_ForwardedWithSignatureReplacedAndAuthorityKept()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);
        var token = Issuer.CreateIdToken(ServiceUrl);

        var reply = await Client(channel).UnaryAsync(new EchoRequest { Message = "hi" }, Bearer(token), TestWait.Deadline());

        Assert.Equal("hi", reply.Message);
        Assert.Equal("Bearer " + Redacted(token), reply.Authorization);
        Assert.Equal($"{ServiceHost}:{emulator.Port}", reply.Authority);
        Assert.Equal(1, emulator.Stats.Accepted);
        Assert.Equal(0, emulator.Stats.Rejected);
        Assert.Equal(ServiceHost, emulator.Stats.LastServerName);
        Assert.Equal($"{ServiceHost}:{emulator.Port}", emulator.Stats.LastAuthority);
    }

    [Fact]
    public async Task ServerStreaming_ValidToken_EveryMessageArrives()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);

        using var call = Client(channel).ServerStream(
            new EchoRequest { Message = "m", Count = 5 }, Bearer(Issuer.CreateIdToken(ServiceUrl)), TestWait.Deadline());
        var messages = new List<string>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            messages.Add(reply.Message);
        }

        Assert.Equal(["m 0", "m 1", "m 2", "m 3", "m 4"], messages);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ClientStreaming_ValidToken_EveryMessageArrives()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);

        using var call = Client(channel).ClientStream(Bearer(Issuer.CreateIdToken(ServiceUrl)), TestWait.Deadline());
        foreach (var message in new[] { "a", "b", "c" })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = message }).WaitAsync(TestWait.Limit);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(TestWait.Limit);
        var reply = await call.ResponseAsync.WaitAsync(TestWait.Limit);

        Assert.Equal("a,b,c", reply.Message);
    }

    [Fact]
    public async Task Bidi_ValidToken_RepliesInterleaveWithRequests()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);

        using var call = Client(channel).Bidi(Bearer(Issuer.CreateIdToken(ServiceUrl)), TestWait.Deadline());
        foreach (var message in new[] { "one", "two", "three" })
        {
            // Each reply is read before the next request is sent: nothing may be buffered on the way.
            await call.RequestStream.WriteAsync(new EchoRequest { Message = message }).WaitAsync(TestWait.Limit);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(TestWait.Limit));
            Assert.Equal(message, call.ResponseStream.Current.Message);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(TestWait.Limit);
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(TestWait.Limit));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task FailingCall_ValidToken_StatusAndTrailersPassThrough()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);

        var error = await Assert.ThrowsAsync<RpcException>(() => Client(channel).FailAsync(
            new FailRequest { Code = (int)StatusCode.FailedPrecondition, Detail = "not today", Message = "trailer-value" },
            Bearer(Issuer.CreateIdToken(ServiceUrl)), TestWait.Deadline()).ResponseAsync.WaitAsync(TestWait.Limit));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("not today", error.Status.Detail);
        Assert.Equal("trailer-value", error.Trailers.GetValue("x-test-trailer"));
        Assert.Equal(1, emulator.Stats.Accepted);
    }

    [Fact]
    public async Task NoToken_GrpcCall_UnauthenticatedAndCountedAsWithoutToken()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);

        var error = await Assert.ThrowsAsync<RpcException>(() => Client(channel).UnaryAsync(
            new EchoRequest { Message = "hi" }, deadline: TestWait.Deadline()).ResponseAsync.WaitAsync(TestWait.Limit));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal(1, emulator.Stats.WithoutToken);
        Assert.Equal(1, emulator.Stats.RejectedBy(RejectionReasons.Missing));
        Assert.Equal(0, emulator.Stats.Accepted);
    }

    [Fact]
    public async Task NoToken_HttpRequest_Is401HtmlWithoutGrpcStatus()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var http = fixture.CreateHttpClient(emulator);
        using var request = NewRequest(HttpMethod.Post, "/tokeninjector.tests.TestEcho/Unary");
        request.Content = new ByteArrayContent([0, 0, 0, 0, 0]);
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");

        using var response = await http.SendAsync(request).WaitAsync(TestWait.Limit);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(TestWait.Limit);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains("grpc-status"));
        Assert.False(response.TrailingHeaders.Contains("grpc-status"));
        Assert.Contains("Unauthorized", body, StringComparison.Ordinal);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    public static TheoryData<string> RejectedTokens() =>
    [
        RejectionReasons.AccessToken,
        RejectionReasons.Malformed,
        RejectionReasons.BadSignature,
        RejectionReasons.UnknownKey,
        RejectionReasons.UnsupportedAlgorithm,
        RejectionReasons.Expired,
        RejectionReasons.WrongIssuer,
        RejectionReasons.WrongAudience,
    ];

    [Theory]
    [MemberData(nameof(RejectedTokens))]
    public async Task BadToken_GrpcCall_UnauthenticatedWithReason(string reason)
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);
        var token = reason switch
        {
            RejectionReasons.AccessToken => "ya29.a0AfH6SMBx-not-a-jwt",
            RejectionReasons.Malformed => "abc.def.ghi",
            RejectionReasons.BadSignature => Issuer.CreateForgedIdToken(ServiceUrl),
            RejectionReasons.UnknownKey => TestTokenIssuer.Sign(Claims(), "no-such-key", System.Security.Cryptography.RSA.Create(2048)),
            RejectionReasons.UnsupportedAlgorithm => UnsignedToken(),
            RejectionReasons.Expired => Issuer.CreateIdToken(ServiceUrl, issuedAt: DateTimeOffset.UtcNow.AddHours(-2)),
            RejectionReasons.WrongIssuer => Issuer.CreateIdToken(ServiceUrl, issuer: "https://evil.example.com"),
            RejectionReasons.WrongAudience => Issuer.CreateIdToken("https://other-service-uc.a.run.app"),
            _ => throw new ArgumentOutOfRangeException(nameof(reason)),
        };

        var error = await Assert.ThrowsAsync<RpcException>(() => Client(channel).UnaryAsync(
            new EchoRequest(), Bearer(token), TestWait.Deadline()).ResponseAsync.WaitAsync(TestWait.Limit));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal(1, emulator.Stats.RejectedBy(reason));
        Assert.Equal(1, emulator.Stats.Rejected);
        Assert.Equal(0, emulator.Stats.WithoutToken);
        Assert.Equal(0, emulator.Stats.Accepted);

        static JsonObject Claims() => new()
        {
            ["iss"] = TestTokenIssuer.GoogleIssuer,
            ["aud"] = ServiceUrl,
            ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
        };

        static string UnsignedToken() =>
            System.Buffers.Text.Base64Url.EncodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}"u8)
            + "." + System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(Claims().ToJsonString())) + ".";
    }

    [Fact]
    public async Task BasicAuthorization_IsMalformed()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var http = fixture.CreateHttpClient(emulator);
        using var request = NewRequest(HttpMethod.Get, "/headers");
        request.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz");

        using var response = await http.SendAsync(request).WaitAsync(TestWait.Limit);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, emulator.Stats.RejectedBy(RejectionReasons.Malformed));
    }

    [Fact]
    public async Task WrongAudience_WhenConfiguredForbidden_PermissionDenied()
    {
        await using var emulator = await fixture.StartEmulatorAsync(o => o.WrongAudienceIsForbidden = true);
        using var channel = fixture.CreateChannel(emulator);

        var error = await Assert.ThrowsAsync<RpcException>(() => Client(channel).UnaryAsync(
            new EchoRequest(), Bearer(Issuer.CreateIdToken("https://other-service-uc.a.run.app")), TestWait.Deadline())
            .ResponseAsync.WaitAsync(TestWait.Limit));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal(1, emulator.Stats.RejectedBy(RejectionReasons.WrongAudience));
    }

    [Fact]
    public async Task NotAnInvoker_Is403Html_PermissionDenied()
    {
        await using var emulator = await fixture.StartEmulatorAsync(o => o.Invokers.Add("someone-else@test-project.iam.gserviceaccount.com"));
        using var channel = fixture.CreateChannel(emulator);
        using var http = fixture.CreateHttpClient(emulator);
        var token = Issuer.CreateIdToken(ServiceUrl);

        var error = await Assert.ThrowsAsync<RpcException>(() => Client(channel).UnaryAsync(
            new EchoRequest(), Bearer(token), TestWait.Deadline()).ResponseAsync.WaitAsync(TestWait.Limit));
        using var request = NewRequest(HttpMethod.Get, "/headers");
        request.Headers.Authorization = new("Bearer", token);
        using var response = await http.SendAsync(request).WaitAsync(TestWait.Limit);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains("grpc-status"));
        Assert.Equal(2, emulator.Stats.RejectedBy(RejectionReasons.NotInvoker));
    }

    [Fact]
    public async Task Invoker_EmailMatchesIgnoringCase_Accepted()
    {
        await using var emulator = await fixture.StartEmulatorAsync(o => o.Invokers.Add(TestTokenIssuer.DefaultEmail.ToUpperInvariant()));
        using var channel = fixture.CreateChannel(emulator);

        var reply = await Client(channel).UnaryAsync(new EchoRequest { Message = "ok" }, Bearer(Issuer.CreateIdToken(ServiceUrl)), TestWait.Deadline());

        Assert.Equal("ok", reply.Message);
    }

    [Theory]
    [InlineData(ServiceUrl)]
    [InlineData(ServiceUrl + "/")]
    [InlineData("https://custom.example.com/api")]
    public async Task AcceptedAudience_Forwarded(string audience)
    {
        await using var emulator = await fixture.StartEmulatorAsync(o => o.CustomAudiences.Add("https://custom.example.com/api"));
        using var channel = fixture.CreateChannel(emulator);

        var reply = await Client(channel).UnaryAsync(new EchoRequest { Message = "ok" }, Bearer(Issuer.CreateIdToken(audience)), TestWait.Deadline());

        Assert.Equal("ok", reply.Message);
        Assert.Equal(1, emulator.Stats.Accepted);
    }

    [Fact]
    public async Task ServerlessAuthorization_TakesPrecedence_AuthorizationPassedUntouched()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);
        var token = Issuer.CreateIdToken(ServiceUrl);
        var headers = new Grpc.Core.Metadata
        {
            { "x-serverless-authorization", "Bearer " + token },
            { "authorization", "Bearer app-level-credential" },
        };

        var reply = await Client(channel).UnaryAsync(new EchoRequest { Message = "hi" }, headers, TestWait.Deadline());

        Assert.Equal("Bearer " + Redacted(token), reply.ServerlessAuthorization);
        Assert.Equal("Bearer app-level-credential", reply.Authorization);
    }

    [Fact]
    public async Task ServerlessAuthorization_Invalid_RejectedEvenWithValidAuthorization()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);
        var headers = new Grpc.Core.Metadata
        {
            { "x-serverless-authorization", "Bearer " + Issuer.CreateIdToken("https://wrong.example.com") },
            { "authorization", "Bearer " + Issuer.CreateIdToken(ServiceUrl) },
        };

        var error = await Assert.ThrowsAsync<RpcException>(() => Client(channel).UnaryAsync(
            new EchoRequest(), headers, TestWait.Deadline()).ResponseAsync.WaitAsync(TestWait.Limit));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal(1, emulator.Stats.RejectedBy(RejectionReasons.WrongAudience));
    }

    [Theory]
    [InlineData(-5, true)]
    [InlineData(-11, false)]
    [InlineData(60, true)]
    public async Task Expiry_IsCheckedWithClockSkew(int expiresInSeconds, bool accepted)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using var emulator = await fixture.StartEmulatorAsync(o =>
        {
            o.Time = time;
            o.ClockSkew = TimeSpan.FromSeconds(10);
        });
        using var channel = fixture.CreateChannel(emulator);
        var lifetime = TimeSpan.FromMinutes(10);
        var token = Issuer.CreateIdToken(ServiceUrl, issuedAt: time.GetUtcNow() - lifetime + TimeSpan.FromSeconds(expiresInSeconds), lifetime: lifetime);

        var call = Client(channel).UnaryAsync(new EchoRequest { Message = "ok" }, Bearer(token), TestWait.Deadline());

        if (accepted)
        {
            Assert.Equal("ok", (await call.ResponseAsync.WaitAsync(TestWait.Limit)).Message);
        }
        else
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(TestWait.Limit));
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
            Assert.Equal(1, emulator.Stats.RejectedBy(RejectionReasons.Expired));
        }
    }

    [Fact]
    public async Task KeyRotation_NewKid_AcceptedAfterOneJwksRefetch()
    {
        await using var issuer = await TestTokenIssuer.StartAsync();
        await using var emulator = await fixture.StartEmulatorAsync(issuer: issuer);
        using var channel = fixture.CreateChannel(emulator);

        await Client(channel).UnaryAsync(new EchoRequest(), Bearer(issuer.CreateIdToken(ServiceUrl)), TestWait.Deadline());
        await Client(channel).UnaryAsync(new EchoRequest(), Bearer(issuer.CreateIdToken(ServiceUrl)), TestWait.Deadline());
        Assert.Equal(1, issuer.JwksRequests);

        issuer.RotateKey();
        await Client(channel).UnaryAsync(new EchoRequest(), Bearer(issuer.CreateIdToken(ServiceUrl)), TestWait.Deadline());

        Assert.Equal(2, issuer.JwksRequests);
        Assert.Equal(3, emulator.Stats.Accepted);
    }

    [Fact]
    public async Task UnknownKid_RepeatedRequests_DoNotRefetchEveryTime()
    {
        await using var issuer = await TestTokenIssuer.StartAsync();
        await using var emulator = await fixture.StartEmulatorAsync(issuer: issuer);
        using var http = fixture.CreateHttpClient(emulator);
        using var stranger = System.Security.Cryptography.RSA.Create(2048);
        var token = TestTokenIssuer.Sign(new JsonObject { ["iss"] = TestTokenIssuer.GoogleIssuer }, "made-up", stranger);

        for (var i = 0; i < 5; i++)
        {
            using var request = NewRequest(HttpMethod.Get, "/headers");
            request.Headers.Authorization = new("Bearer", token);
            using var response = await http.SendAsync(request).WaitAsync(TestWait.Limit);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(1, issuer.JwksRequests);
        Assert.Equal(5, emulator.Stats.RejectedBy(RejectionReasons.UnknownKey));
    }

    [Fact]
    public async Task HttpRequest_ValidToken_ContainerGetsRedactedTokenOverH2c()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var http = fixture.CreateHttpClient(emulator);
        var token = Issuer.CreateIdToken(ServiceUrl);
        using var request = NewRequest(HttpMethod.Get, "/headers");
        request.Headers.Authorization = new("Bearer", token);

        using var response = await http.SendAsync(request).WaitAsync(TestWait.Limit);
        var seen = JsonNode.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestWait.Limit))!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var forwarded = (string)seen["authorization"]!;
        Assert.Equal("Bearer " + Redacted(token), forwarded);
        Assert.EndsWith(".SIGNATURE_REMOVED_BY_GOOGLE", forwarded, StringComparison.Ordinal);
        Assert.Equal(token.Split('.')[0], forwarded["Bearer ".Length..].Split('.')[0]);
        Assert.Equal("HTTP/2", (string)seen[":protocol-version"]!);
        Assert.Equal($"{ServiceHost}:{emulator.Port}", (string)seen[":authority"]!);
        Assert.Equal("https", (string)seen["x-forwarded-proto"]!);
    }

    [Fact]
    public async Task Http11Client_IsServedByAlpnAndForwardedOverH2c()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var http = fixture.CreateHttpClient(emulator);
        using var request = NewRequest(HttpMethod.Get, "/headers", HttpVersion.Version11);
        request.Headers.Authorization = new("Bearer", Issuer.CreateIdToken(ServiceUrl));

        using var response = await http.SendAsync(request).WaitAsync(TestWait.Limit);
        var seen = JsonNode.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestWait.Limit))!;

        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal("HTTP/2", (string)seen[":protocol-version"]!);
        Assert.Equal(ServiceHost, emulator.Stats.LastServerName);
    }

    [Fact]
    public async Task SlowContainer_PastRequestTimeout_Is504()
    {
        await using var emulator = await fixture.StartEmulatorAsync(o => o.RequestTimeout = TimeSpan.FromMilliseconds(500));
        using var http = fixture.CreateHttpClient(emulator);
        using var channel = fixture.CreateChannel(emulator);
        var token = Issuer.CreateIdToken(ServiceUrl);
        using var request = NewRequest(HttpMethod.Get, "/hang");
        request.Headers.Authorization = new("Bearer", token);

        using var response = await http.SendAsync(request).WaitAsync(TestWait.Limit);
        var error = await Assert.ThrowsAsync<RpcException>(() => Client(channel).HangAsync(
            new EchoRequest(), Bearer(token), TestWait.Deadline()).ResponseAsync.WaitAsync(TestWait.Limit));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.False(response.Headers.Contains("grpc-status"));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task Stats_CountDistinctTokensAndServeJsonWithoutAuth()
    {
        await using var emulator = await fixture.StartEmulatorAsync();
        using var channel = fixture.CreateChannel(emulator);
        using var http = fixture.CreateHttpClient(emulator);
        var first = Issuer.CreateIdToken(ServiceUrl, issuedAt: DateTimeOffset.UtcNow.AddSeconds(-30));
        var second = Issuer.CreateIdToken(ServiceUrl);

        foreach (var token in new[] { first, first, second })
        {
            await Client(channel).UnaryAsync(new EchoRequest(), Bearer(token), TestWait.Deadline());
        }

        await Assert.ThrowsAsync<RpcException>(() => Client(channel).UnaryAsync(
            new EchoRequest(), deadline: TestWait.Deadline()).ResponseAsync.WaitAsync(TestWait.Limit));
        var json = await http.GetStringAsync(CloudRunFrontEnd.StatsPath).WaitAsync(TestWait.Limit);
        using var stats = JsonDocument.Parse(json);
        var root = stats.RootElement;

        Assert.Equal(3, emulator.Stats.Accepted);
        Assert.Equal(2, emulator.Stats.DistinctTokens);
        Assert.Equal(3, root.GetProperty("accepted").GetInt64());
        Assert.Equal(1, root.GetProperty("rejected").GetInt64());
        Assert.Equal(1, root.GetProperty("rejectedByReason").GetProperty("missing").GetInt64());
        Assert.Equal(1, root.GetProperty("withoutToken").GetInt64());
        Assert.Equal(2, root.GetProperty("distinctTokens").GetInt64());
        Assert.Equal(ServiceHost, root.GetProperty("lastServerName").GetString());
        Assert.Equal($"{ServiceHost}:{emulator.Port}", root.GetProperty("lastAuthority").GetString());
        Assert.DoesNotContain(first.Split('.')[1], json, StringComparison.Ordinal);
        Assert.Equal(1, emulator.Stats.Rejected);
    }

    [Fact]
    public async Task StartAsync_InvalidOptions_ReportsEveryError()
    {
        var options = new CloudRunEmulatorOptions
        {
            ListenAddress = "nowhere",
            ServiceUrl = "http://plain.example.com/path",
            Upstream = new Uri("https://127.0.0.1:1"),
            Certificate = fixture.Authority.Certificate,
            JwksUri = Issuer.JwksUri,
            RequestTimeout = TimeSpan.Zero,
        };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => CloudRunEmulator.StartAsync(options).WaitAsync(TestWait.Limit));

        Assert.Contains("service URL", error.Message, StringComparison.Ordinal);
        Assert.Contains("upstream", error.Message, StringComparison.Ordinal);
        Assert.Contains("listen address", error.Message, StringComparison.Ordinal);
        Assert.Contains("request timeout", error.Message, StringComparison.Ordinal);
    }
}
