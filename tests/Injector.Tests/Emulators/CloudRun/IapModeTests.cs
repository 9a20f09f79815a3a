using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenInjector.Emulators.CloudRun;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.Emulators.CloudRun.CloudRunEmulatorFixture;

namespace TokenInjector.Tests.Emulators.CloudRun;

/// <summary>
/// The emulator's IAP mode over real TLS: the token in <c>Proxy-Authorization</c> (or <c>Authorization</c>) for IAP's
/// audience with an <c>email</c>; each departure is refused with its reason, and an accepted request reaches the
/// container with the app's own <c>Authorization</c> and without <c>Proxy-Authorization</c>.
/// </summary>
public sealed class IapModeTests(CloudRunEmulatorFixture fixture) : IClassFixture<CloudRunEmulatorFixture>
{
    private const string IapAudience = "1234567890-abcdef.apps.googleusercontent.com";
    private const string AppAuthorization = "Basic YXBwOm93bi1zZWNyZXQ=";

    public static TheoryData<string, string, bool, string?> Cases() => new()
    {
        { "proxy-authorization", IapAudience, true, null },
        { "authorization", IapAudience, true, null },
        { "proxy-authorization", ServiceUrl, true, RejectionReasons.WrongAudience },
        { "proxy-authorization", IapAudience, false, RejectionReasons.MissingEmail },
        { "x-serverless-authorization", IapAudience, true, RejectionReasons.Missing },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Token_InHeaderForAudience_AcceptedOnlyAsIapWould(string header, string audience, bool withEmail, string? rejection)
    {
        await using var emulator = await fixture.StartEmulatorAsync(options => options.IapAudience = IapAudience);
        using var http = fixture.CreateHttpClient(emulator);
        using var request = NewRequest(HttpMethod.Get, "/headers");
        var claims = new JsonObject
        {
            ["iss"] = TestTokenIssuer.GoogleIssuer,
            ["aud"] = audience,
            ["sub"] = "112233445566778899000",
            ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
        };
        if (withEmail)
        {
            claims["email"] = TestTokenIssuer.DefaultEmail;
        }

        request.Headers.TryAddWithoutValidation(header, "Bearer " + fixture.Issuer.CreateToken(claims));
        if (header == "proxy-authorization")
        {
            request.Headers.TryAddWithoutValidation("Authorization", AppAuthorization);
        }

        using var response = await http.SendAsync(request).WaitAsync(TestWait.Limit);

        if (rejection is not null)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(1, emulator.Stats.RejectedBy(rejection));
            return;
        }

        using var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, emulator.Stats.Accepted);
        Assert.False(seen.RootElement.TryGetProperty("proxy-authorization", out _));
        var authorization = seen.RootElement.GetProperty("authorization").GetString();
        if (header == "proxy-authorization")
        {
            Assert.Equal(AppAuthorization, authorization);
        }
        else
        {
            Assert.EndsWith(".SIGNATURE_REMOVED_BY_GOOGLE", authorization, StringComparison.Ordinal);
        }
    }
}
