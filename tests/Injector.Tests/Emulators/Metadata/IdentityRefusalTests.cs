using System.Net;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>
/// The metadata emulator's Workload Identity refusals (<c>identityRefusal</c> of <c>POST /emulator/faults</c>): each
/// answered on the identity endpoint with the real server's status and body, after the audience check, while access
/// tokens are still served.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class IdentityRefusalTests
{
    [Fact]
    public async Task ControlApi_SetsEachRefusal_OnlyTheIdentityEndpointAnswersIt()
    {
        await using var stack = await CloudRunStack.StartAsync();
        using var http = new HttpClient { BaseAddress = stack.Metadata.BaseAddress, Timeout = TestWait.Limit };
        http.DefaultRequestHeaders.Add("Metadata-Flavor", "Google");
        const string Identity = "computeMetadata/v1/instance/service-accounts/default/identity?audience=https://a";

        using var set = await http.PostAsync("emulator/faults", new StringContent("""{"identityRefusal":"no_service_account"}""")).Bounded();
        using var refused = await http.GetAsync(Identity).Bounded();
        using var missingAudience = await http.GetAsync("computeMetadata/v1/instance/service-accounts/default/identity").Bounded();
        using var token = await http.GetAsync("computeMetadata/v1/instance/service-accounts/default/token").Bounded();
        using var bad = await http.PostAsync("emulator/faults", new StringContent("""{"identityRefusal":"nope"}""")).Bounded();
        using var notAllowed = await http.PostAsync("emulator/faults", new StringContent("""{"identityRefusal":"ksa_not_allowed"}""")).Bounded();
        using var forbidden = await http.GetAsync(Identity).Bounded();

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.StartsWith(
            "Your Kubernetes service account (default/default) is not annotated with a target Google service account",
            await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, missingAudience.StatusCode);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Contains("Permission 'iam.serviceAccounts.getAccessToken' denied", await forbidden.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
