using System.Globalization;
using System.Net;
using TokenInjector.DevStack.Stack;
using TokenInjector.Tests.Emulators.Metadata;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.MetadataApi.MetadataEndpointClient;

namespace TokenInjector.Tests.MetadataApi;

/// <summary>
/// The metadata endpoint off GKE (<c>--token-source adc</c>, a service-account key): identity from the key, the paths a
/// library needs to start answered from the key file, the rest 404 saying why.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class AdcMetadataEndpointTests
{
    private const string Audience = "https://svc-abc.a.run.app";

    [Fact]
    public async Task ServiceAccountKey_IdentityPingEmailAndProjectAnsweredHere_TheRest404SayingWhy()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var keyFile = stack.Directory.File("key.json");
        await File.WriteAllTextAsync(keyFile, stack.Metadata.CreateServiceAccountKey());
        var port = FreePort.Next();
        var launch = stack.Sidecar(["--token-source", "adc", "--audience", Audience, "--metadata", port.ToString(CultureInfo.InvariantCulture)]) with
        {
            Environment = new Dictionary<string, string> { ["GOOGLE_APPLICATION_CREDENTIALS"] = keyFile },
        };
        using var sidecar = await SidecarProcess.StartAsync(launch, TestWait.Limit);
        using var client = For($"127.0.0.1:{port}");

        using var ping = await client.GetAsync("/", flavor: false);
        using var instance = await client.GetAsync("/computeMetadata/v1/instance", flavor: true);
        using var email = await client.GetAsync("/computeMetadata/v1/instance/service-accounts/default/email", flavor: true);
        using var project = await client.GetAsync("/computeMetadata/v1/project/project-id", flavor: true);
        using var identity = await client.GetAsync(IdentityPath(Audience), flavor: true);
        using var accessToken = await client.GetAsync("/computeMetadata/v1/instance/service-accounts/default/token", flavor: true);
        using var noFlavor = await client.GetAsync("/computeMetadata/v1/project/project-id", flavor: false);

        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal("Google", ping.Headers.GetValues("Metadata-Flavor").Single());
        Assert.Equal(HttpStatusCode.OK, instance.StatusCode);
        Assert.Equal("app@demo-project.iam.gserviceaccount.com", await email.Content.ReadAsStringAsync());
        Assert.Equal("demo-project", await project.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, identity.StatusCode);
        Assert.Equal(Audience, MetadataTestSupport.DecodeSegment(await identity.Content.ReadAsStringAsync(), 1).GetProperty("aud").GetString());
        Assert.Equal(HttpStatusCode.NotFound, accessToken.StatusCode);
        Assert.Contains("off GKE (--token-source adc) no metadata server stands behind this endpoint", await accessToken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Google", accessToken.Headers.GetValues("Metadata-Flavor").Single());
        Assert.Equal(HttpStatusCode.Forbidden, noFlavor.StatusCode);
    }
}
