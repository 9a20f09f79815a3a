using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Apis.Auth;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>Shared plumbing of the metadata emulator tests: a plain client, JWT reading.</summary>
internal static class MetadataTestSupport
{
    public const string AccountsPath = "/computeMetadata/v1/instance/service-accounts";

    public static readonly DateTimeOffset FakeStart = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task<MetadataEmulator> StartAsync(Action<MetadataEmulatorOptions>? configure = null)
    {
        var options = new MetadataEmulatorOptions();
        configure?.Invoke(options);
        return await MetadataEmulator.StartAsync(options).Bounded();
    }

    /// <summary>
    /// <paramref name="idToken"/> as Google's library verifies an ID token: signed by a key of the emulator's JWKS,
    /// issued by accounts.google.com, for <paramref name="audience"/>; its payload.
    /// </summary>
    public static async Task<JsonWebSignature.Payload> VerifyWithGoogleLibraryAsync(MetadataEmulator emulator, string idToken, string audience) =>
        await JsonWebSignature.VerifySignedTokenAsync(idToken, new SignedTokenVerificationOptions
        {
            CertificatesUrl = emulator.JwksUri.AbsoluteUri,
            TrustedIssuers = { "https://accounts.google.com" },
            TrustedAudiences = { audience },
        }).Bounded();

    /// <summary>A client that shows redirects instead of following them and opens a fresh connection per request.</summary>
    public static HttpClient CreateClient(MetadataEmulator emulator, TimeSpan? timeout = null) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.Zero })
        {
            BaseAddress = emulator.BaseAddress,
            Timeout = timeout ?? TestWait.Limit,
        };

    public static async Task<HttpResponseMessage> SendMetadataAsync(this HttpClient client, string pathAndQuery, bool flavor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (flavor)
        {
            request.Headers.Add("Metadata-Flavor", "Google");
        }

        return await client.SendAsync(request).Bounded();
    }

    public static async Task<string> GetIdentityTokenAsync(this HttpClient client, string audience, string account = "default")
    {
        using var response = await client.SendMetadataAsync($"{AccountsPath}/{account}/identity?audience={audience}&format=full", flavor: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync().Bounded();
    }

    public static JsonElement DecodeSegment(string jwt, int index)
    {
        var segment = jwt.Split('.')[index];
        return JsonDocument.Parse(Base64Url.DecodeFromChars(segment)).RootElement.Clone();
    }

    /// <summary>Checks the RS256 signature against the emulator's JWKS, as a relying party would.</summary>
    public static async Task<bool> VerifiesAgainstJwksAsync(HttpClient client, MetadataEmulator emulator, string jwt)
    {
        var kid = DecodeSegment(jwt, 0).GetProperty("kid").GetString();
        using var jwks = JsonDocument.Parse(await client.GetStringAsync(emulator.JwksUri).Bounded());
        foreach (var key in jwks.RootElement.GetProperty("keys").EnumerateArray())
        {
            if (key.GetProperty("kid").GetString() != kid)
            {
                continue;
            }

            using var rsa = RSA.Create(new RSAParameters
            {
                Modulus = Base64Url.DecodeFromChars(key.GetProperty("n").GetString()),
                Exponent = Base64Url.DecodeFromChars(key.GetProperty("e").GetString()),
            });
            var parts = jwt.Split('.');
            return rsa.VerifyData(
                Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]),
                Base64Url.DecodeFromChars(parts[2]),
                HashAlgorithmName.SHA256,
                RSASignaturePadding.Pkcs1);
        }

        return false;
    }

    public static async Task<List<string>> JwksKeyIdsAsync(HttpClient client, MetadataEmulator emulator)
    {
        using var jwks = JsonDocument.Parse(await client.GetStringAsync(emulator.JwksUri).Bounded());
        return [.. jwks.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!)];
    }

    public static async Task AssertConnectionRefusedAsync(HttpClient client)
    {
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendMetadataAsync("/", flavor: true));
        var socketError = Assert.IsType<SocketException>(error.InnerException);
        Assert.Equal(SocketError.ConnectionRefused, socketError.SocketErrorCode);
    }
}
