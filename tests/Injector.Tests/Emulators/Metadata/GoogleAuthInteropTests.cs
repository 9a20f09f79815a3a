using System.Net;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>
/// Google's own client library against the emulator: if Google.Apis.Auth can fetch and verify tokens here, the
/// emulator speaks the real server's dialect (raw-JWT identity body, unencoded audience, JWKS format).
/// </summary>
/// <remarks>
/// Google.Apis.Auth reads an identity response as a raw JWT only when the request URL starts with its
/// GoogleAuthConsts.EffectiveComputeOidcTokenUrl, i.e. http://{GCE_METADATA_HOST}/computeMetadata/v1/instance/
/// service-accounts/default/identity; any other URL is parsed as a JSON TokenResponse and fails with "Server
/// response does not contain a JSON object". That is client-side and holds for the real server too, so the test
/// redirects the library the way real deployments do, with GCE_METADATA_HOST, and the emulator stays faithful.
/// The variable is process-wide, hence the non-parallel collection and the restore.
/// </remarks>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class GoogleAuthInteropTests
{
    private const string Audience = "https://svc-abc.a.run.app";

    [Fact]
    public async Task ComputeCredential_FetchesIdAndAccessTokens_AndTheIdTokenVerifiesWithGoogleApisAuth()
    {
        await using var emulator = await StartAsync();
        using var redirect = new GceMetadataHost(emulator.HostAndPort);
        var credential = CreateCredential(emulator);

        var oidcToken = await credential.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(Audience)).Bounded();
        var idToken = await oidcToken.GetAccessTokenAsync().Bounded();
        var accessToken = await ((ITokenAccess)credential).GetAccessTokenForRequestAsync().Bounded();

        Assert.StartsWith("ya29.", accessToken, StringComparison.Ordinal);
        var payload = await VerifyWithGoogleLibraryAsync(emulator, idToken, Audience);
        Assert.Equal(Audience, payload.Audience);
        Assert.Equal("https://accounts.google.com", payload.Issuer);
        Assert.Equal("112233445566778899001", payload.Subject);
        Assert.Equal(1, emulator.IdentityRequests(Audience));
    }

    [Fact]
    public async Task ComputeCredential_InjectedStatus_SurfacesAsTokenResponseExceptionWithThatStatus()
    {
        await using var emulator = await StartAsync();
        using var redirect = new GceMetadataHost(emulator.HostAndPort);
        emulator.Faults.Status = 503;
        var credential = CreateCredential(emulator);

        var oidcToken = await credential.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(Audience)).Bounded();
        var error = await Assert.ThrowsAsync<TokenResponseException>(() => oidcToken.GetAccessTokenAsync().Bounded());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
    }

    private static ComputeCredential CreateCredential(TokenInjector.Emulators.Metadata.MetadataEmulator emulator)
    {
        var accounts = $"http://{emulator.HostAndPort}/computeMetadata/v1/instance/service-accounts/default";
        return new ComputeCredential(new ComputeCredential.Initializer($"{accounts}/token", $"{accounts}/identity"));
    }
}
