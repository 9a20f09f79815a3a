using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TokenInjector.Tests.Support;

/// <summary>
/// A stand-in for Google's token signer: signs RS256 JWTs with arbitrary claims and serves its JWKS on a loopback
/// port (<see cref="JwksUri"/>), with key rotation and a count of JWKS downloads.
/// </summary>
internal sealed class TestTokenIssuer : IAsyncDisposable
{
    public const string GoogleIssuer = "https://accounts.google.com";
    public const string DefaultEmail = "workload@test-project.iam.gserviceaccount.com";

    private readonly Lock _lock = new();
    private readonly List<(string Kid, RSA Key)> _keys = [];
    private WebApplication? _app;
    private int _jwksRequests;
    private int _nextKid;

    private TestTokenIssuer()
    {
        RotateKey();
    }

    /// <summary>Where the JWKS is served.</summary>
    public Uri JwksUri { get; private set; } = null!;

    /// <summary>How many times the JWKS was downloaded.</summary>
    public int JwksRequests => Volatile.Read(ref _jwksRequests);

    /// <summary>The <c>kid</c> new tokens are signed with.</summary>
    public string CurrentKid
    {
        get
        {
            lock (_lock)
            {
                return _keys[^1].Kid;
            }
        }
    }

    public static async Task<TestTokenIssuer> StartAsync()
    {
        var issuer = new TestTokenIssuer();
        var app = LoopbackWebApp.CreateBuilder().Build();
        app.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref issuer._jwksRequests);
            return Results.Text(issuer.JwksJson(), "application/json");
        });
        var address = await LoopbackWebApp.StartAsync(app);
        issuer._app = app;
        issuer.JwksUri = new Uri(new Uri(address), "/jwks");
        return issuer;
    }

    /// <summary>Adds a new signing key to the JWKS and signs with it from now on; old keys stay published.</summary>
    public string RotateKey()
    {
        lock (_lock)
        {
            var kid = $"test-key-{++_nextKid}";
            _keys.Add((kid, RSA.Create(2048)));
            return kid;
        }
    }

    /// <summary>A Google-shaped ID token: iss, aud, azp, sub, email, email_verified, iat, exp.</summary>
    public string CreateIdToken(
        string audience,
        string email = DefaultEmail,
        DateTimeOffset? issuedAt = null,
        TimeSpan? lifetime = null,
        string issuer = GoogleIssuer)
    {
        var iat = (issuedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        return CreateToken(new JsonObject
        {
            ["iss"] = issuer,
            ["aud"] = audience,
            ["azp"] = "112233445566778899000",
            ["sub"] = "112233445566778899000",
            ["email"] = email,
            ["email_verified"] = true,
            ["iat"] = iat,
            ["exp"] = iat + (long)(lifetime ?? TimeSpan.FromHours(1)).TotalSeconds,
        });
    }

    /// <summary>Signs <paramref name="claims"/> with the current key.</summary>
    public string CreateToken(JsonObject claims)
    {
        (string Kid, RSA Key) current;
        lock (_lock)
        {
            current = _keys[^1];
        }

        return Sign(claims, current.Kid, current.Key);
    }

    /// <summary>A token that names the current <c>kid</c> but is signed by a key nobody published.</summary>
    public string CreateForgedIdToken(string audience)
    {
        using var stranger = RSA.Create(2048);
        var genuine = CreateIdToken(audience).Split('.');
        var signed = Encoding.ASCII.GetBytes(genuine[0] + "." + genuine[1]);
        return genuine[0] + "." + genuine[1] + "."
            + Base64Url.EncodeToString(stranger.SignData(signed, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    /// <summary>An RS256 JWT over <paramref name="claims"/>, signed by <paramref name="key"/> under <paramref name="kid"/>.</summary>
    public static string Sign(JsonObject claims, string kid, RSA key)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = kid, ["typ"] = "JWT" };
        var signedPart = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToJsonString()))
            + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signedPart), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signedPart + "." + Base64Url.EncodeToString(signature);
    }

    private string JwksJson()
    {
        var keys = new JsonArray();
        lock (_lock)
        {
            foreach (var (kid, key) in _keys)
            {
                var parameters = key.ExportParameters(false);
                keys.Add(new JsonObject
                {
                    ["kty"] = "RSA",
                    ["alg"] = "RS256",
                    ["use"] = "sig",
                    ["kid"] = kid,
                    ["n"] = Base64Url.EncodeToString(parameters.Modulus),
                    ["e"] = Base64Url.EncodeToString(parameters.Exponent),
                });
            }
        }

        return new JsonObject { ["keys"] = keys }.ToJsonString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(TestWait.Limit);
            await _app.DisposeAsync();
        }

        lock (_lock)
        {
            foreach (var (_, key) in _keys)
            {
                key.Dispose();
            }
        }
    }
}
