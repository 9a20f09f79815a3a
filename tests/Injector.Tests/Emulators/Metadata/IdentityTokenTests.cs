using System.Net;
using Microsoft.Extensions.Time.Testing;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>docs/ARCHITECTURE.md "The emulators", metadata points 7-9: the JWT, its keys, the GKE cache and the request counters.</summary>
public sealed class IdentityTokenTests
{
    private const string Audience = "https://svc-abc.a.run.app";

    [Fact]
    public async Task IdentityToken_HasGoogleShapedHeaderAndWorkloadIdentityClaims()
    {
        var time = new FakeTimeProvider(FakeStart);
        await using var emulator = await StartAsync(o =>
        {
            o.Time = time;
            o.TokenLifetime = TimeSpan.FromSeconds(20);
            o.ServiceAccountId = "998877";
        });
        using var client = CreateClient(emulator);

        var jwt = await client.GetIdentityTokenAsync(Audience);

        var header = DecodeSegment(jwt, 0);
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        Assert.Equal("JWT", header.GetProperty("typ").GetString());
        Assert.Equal(await JwksKeyIdsAsync(client, emulator), [header.GetProperty("kid").GetString()!]);
        var claims = DecodeSegment(jwt, 1);
        Assert.Equal("https://accounts.google.com", claims.GetProperty("iss").GetString());
        Assert.Equal(Audience, claims.GetProperty("aud").GetString());
        Assert.Equal("998877", claims.GetProperty("sub").GetString());
        Assert.Equal("998877", claims.GetProperty("azp").GetString());
        Assert.Equal("app@demo-project.iam.gserviceaccount.com", claims.GetProperty("email").GetString());
        Assert.True(claims.GetProperty("email_verified").GetBoolean());
        Assert.Equal(FakeStart.ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64());
        Assert.Equal(FakeStart.ToUnixTimeSeconds() + 20, claims.GetProperty("exp").GetInt64());
        Assert.False(claims.TryGetProperty("google", out _), "Workload Identity tokens carry no google claim, even with format=full");
    }

    [Fact]
    public async Task IdentityToken_SignatureVerifiesAgainstTheEmulatorJwks()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        var jwt = await client.GetIdentityTokenAsync(Audience);

        Assert.True(await VerifiesAgainstJwksAsync(client, emulator, jwt));
        Assert.False(await VerifiesAgainstJwksAsync(client, emulator, jwt[..^4] + (jwt[^4..] == "AAAA" ? "BBBB" : "AAAA")));
    }

    [Fact]
    public async Task Jwks_ServesRsaSigningKeys()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var json = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync(emulator.JwksUri).Bounded());

        var key = Assert.Single(json.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.Equal("sig", key.GetProperty("use").GetString());
        Assert.Equal("AQAB", key.GetProperty("e").GetString());
        Assert.Equal(256, System.Buffers.Text.Base64Url.DecodeFromChars(key.GetProperty("n").GetString()).Length);
    }

    [Fact]
    public async Task GkeCache_SameTokenUntilTheLastWindowBeforeExpiry_ThenAFreshOne()
    {
        var time = new FakeTimeProvider(FakeStart);
        await using var emulator = await StartAsync(o =>
        {
            o.Time = time;
            o.GkeCache = true;
            o.TokenLifetime = TimeSpan.FromMinutes(60);
            o.GkeCacheWindow = TimeSpan.FromSeconds(60);
        });
        using var client = CreateClient(emulator);

        var first = await client.GetIdentityTokenAsync(Audience);
        time.Advance(TimeSpan.FromMinutes(59) - TimeSpan.FromSeconds(1));
        var stillCached = await client.GetIdentityTokenAsync(Audience);
        var otherAudience = await client.GetIdentityTokenAsync("https://other.a.run.app");
        time.Advance(TimeSpan.FromSeconds(1));
        var fresh = await client.GetIdentityTokenAsync(Audience);
        var freshAgain = await client.GetIdentityTokenAsync(Audience);

        Assert.Equal(first, stillCached);
        Assert.NotEqual(first, otherAudience);
        Assert.NotEqual(first, fresh);
        Assert.Equal(fresh, freshAgain);
        Assert.Equal((FakeStart + TimeSpan.FromMinutes(59)).ToUnixTimeSeconds(), DecodeSegment(fresh, 1).GetProperty("iat").GetInt64());
    }

    [Fact]
    public async Task WithoutGkeCache_EachRequestMintsATokenForTheCurrentTime()
    {
        var time = new FakeTimeProvider(FakeStart);
        await using var emulator = await StartAsync(o => o.Time = time);
        using var client = CreateClient(emulator);

        var first = await client.GetIdentityTokenAsync(Audience);
        time.Advance(TimeSpan.FromSeconds(5));
        var second = await client.GetIdentityTokenAsync(Audience);

        Assert.NotEqual(first, second);
        Assert.Equal(FakeStart.ToUnixTimeSeconds() + 5, DecodeSegment(second, 1).GetProperty("iat").GetInt64());
    }

    [Fact]
    public async Task RotateSigningKey_KeepingPrevious_NewTokensUseNewKeyAndOldTokensStillVerify()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        var before = await client.GetIdentityTokenAsync(Audience);
        var oldKid = DecodeSegment(before, 0).GetProperty("kid").GetString()!;

        emulator.RotateSigningKey();
        var after = await client.GetIdentityTokenAsync(Audience);
        var newKid = DecodeSegment(after, 0).GetProperty("kid").GetString()!;

        Assert.NotEqual(oldKid, newKid);
        Assert.Equal([newKid, oldKid], await JwksKeyIdsAsync(client, emulator));
        Assert.True(await VerifiesAgainstJwksAsync(client, emulator, before));
        Assert.True(await VerifiesAgainstJwksAsync(client, emulator, after));
    }

    [Fact]
    public async Task RotateSigningKey_DroppingPrevious_OldTokensNoLongerVerify()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        var before = await client.GetIdentityTokenAsync(Audience);

        emulator.RotateSigningKey(keepPreviousInJwks: false);

        Assert.Single(await JwksKeyIdsAsync(client, emulator));
        Assert.False(await VerifiesAgainstJwksAsync(client, emulator, before));
        Assert.True(await VerifiesAgainstJwksAsync(client, emulator, await client.GetIdentityTokenAsync(Audience)));
    }

    [Fact]
    public async Task Counters_CountEveryIdentityRequestPerAudience_WhateverTheOutcome()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        await client.GetIdentityTokenAsync("https://a.run.app");
        await client.GetIdentityTokenAsync("https://a.run.app", account: "app@demo-project.iam.gserviceaccount.com");
        await client.GetIdentityTokenAsync("https://b.run.app");
        emulator.Faults.Status = 503;
        using (var faulted = await client.SendMetadataAsync($"{AccountsPath}/default/identity?audience=https://a.run.app", flavor: true))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, faulted.StatusCode);
        }

        emulator.Faults.Status = null;
        using (var noFlavor = await client.SendMetadataAsync($"{AccountsPath}/default/identity?audience=https://b.run.app", flavor: false))
        {
            Assert.Equal(HttpStatusCode.Forbidden, noFlavor.StatusCode);
        }

        using (await client.SendMetadataAsync($"{AccountsPath}/default/token", flavor: true))
        {
            // Access-token requests are not identity requests.
        }

        Assert.Equal(3, emulator.IdentityRequests("https://a.run.app"));
        Assert.Equal(2, emulator.IdentityRequests("https://b.run.app"));
        Assert.Equal(0, emulator.IdentityRequests("https://never.run.app"));
        Assert.Equal(5, emulator.TotalIdentityRequests);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("&format=standard", false)]
    [InlineData("&format=standard&licenses=TRUE", false)]
    [InlineData("&format=full", true)]
    [InlineData("&format=full&licenses=TRUE", true)]
    public async Task EmailClaims_OnlyWithTheFullFormat(string formatQuery, bool hasEmail)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await client.SendMetadataAsync($"{AccountsPath}/default/identity?audience=https://a.run.app{formatQuery}", flavor: true);
        var claims = DecodeSegment(await response.Content.ReadAsStringAsync().Bounded(), 1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(hasEmail, claims.TryGetProperty("email", out _));
        Assert.Equal(hasEmail, claims.TryGetProperty("email_verified", out _));
        Assert.Equal("https://a.run.app", claims.GetProperty("aud").GetString());
        Assert.True(claims.TryGetProperty("sub", out _));
    }
}
