using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using TokenInjector.DevStack.Stack;
using TokenInjector.Tests.Emulators.Metadata;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.MetadataApi;

/// <summary>
/// Google's own client libraries, unchanged, with only GCE_METADATA_HOST (and GCE_METADATA_IP, which Node's
/// gcp-metadata reads first) pointing at a sidecar process's metadata endpoint: each detects the metadata server,
/// gets an ID token through the sidecar, and calls the Cloud Run emulator over TLS with it.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class GoogleClientLibraryTests
{
    private const string Email = "app@demo-project.iam.gserviceaccount.com";

    /// <summary>
    /// Google.Apis.Auth in this process: GetApplicationDefault() finds the "metadata server" by its detection ping,
    /// and GetOidcTokenAsync asks the identity endpoint (format=full). The library caches what it detected for the
    /// life of the process, so this is the one test that calls GetApplicationDefault.
    /// </summary>
    [Fact]
    public async Task GoogleApisAuth_GetApplicationDefault_OidcToken_ThroughTheSidecar_CallsCloudRun()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var port = FreePort.Next();
        using var sidecar = await SidecarProcess.StartAsync(
            stack.Sidecar(["--audience", CloudRunStack.ServiceUrl, "--metadata", port.ToString(CultureInfo.InvariantCulture)]), TestWait.Limit);
        using var redirect = new GceMetadataHost($"127.0.0.1:{port}");
        var before = stack.Metadata.IdentityRequests(CloudRunStack.ServiceUrl);

        var credential = await GoogleCredential.GetApplicationDefaultAsync().Bounded();
        var oidc = await credential.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(CloudRunStack.ServiceUrl)).Bounded();
        var jwt = await oidc.GetAccessTokenAsync().Bounded();

        Assert.IsType<ComputeCredential>(credential.UnderlyingCredential);
        var claims = MetadataTestSupport.DecodeSegment(jwt, 1);
        Assert.Equal(CloudRunStack.ServiceUrl, claims.GetProperty("aud").GetString());
        Assert.Equal(Email, claims.GetProperty("email").GetString());
        Assert.Equal(before, stack.Metadata.IdentityRequests(CloudRunStack.ServiceUrl)); // the sidecar's cached token
        var whoami = await CallCloudRunAsync(stack, jwt);
        Assert.Equal(CloudRunStack.ServiceUrl, whoami.GetProperty("audience").GetString());
        Assert.Equal(Email, whoami.GetProperty("email").GetString());
    }

    /// <summary>
    /// Node's google-auth-library (getIdTokenClient) and gcp-metadata (isAvailable, instance()), from npm, in a Node
    /// process of their own (tests/clients/node, installed by scripts/test with npm ci): two app processes, one audience
    /// configured and one learned, each token fetched from the metadata server once.
    /// </summary>
    [Fact]
    public async Task NodeGoogleAuthLibrary_GetIdTokenClient_ThroughTheSidecar_CallsCloudRun()
    {
        var client = RepositoryFiles.PathOf("tests", "clients", "node", "id_token_client.js");
        Assert.True(
            Directory.Exists(RepositoryFiles.PathOf("tests", "clients", "node", "node_modules", "google-auth-library")),
            "tests/clients/node has no node_modules: run scripts/test, or npm ci in tests/clients/node");
        await using var stack = await CloudRunStack.StartAsync(cloudRun: o => o.CustomAudiences.Add("https://custom.example"));
        var port = FreePort.Next();
        using var sidecar = await SidecarProcess.StartAsync(
            stack.Sidecar(["--audience", CloudRunStack.ServiceUrl, "--metadata", port.ToString(CultureInfo.InvariantCulture)]), TestWait.Limit);
        var environment = new Dictionary<string, string>
        {
            ["GCE_METADATA_HOST"] = $"127.0.0.1:{port}",
            ["GCE_METADATA_IP"] = $"127.0.0.1:{port}",
        };

        foreach (var audience in new[] { CloudRunStack.ServiceUrl, "https://custom.example", CloudRunStack.ServiceUrl, "https://custom.example" })
        {
            var (exitCode, stdout, stderr) = await ChildProcess.RunAsync(
                "node", [client, audience, CloudRunStack.ServiceUrl, stack.CloudRun.Port.ToString(CultureInfo.InvariantCulture), stack.CaFile], environment, TestWait.Limit);

            Assert.True(exitCode == 0, stderr);
            using var answer = JsonDocument.Parse(stdout.Trim());
            var root = answer.RootElement;
            Assert.True(root.GetProperty("available").GetBoolean());
            Assert.Equal(Email, root.GetProperty("email").GetString());
            Assert.Equal(audience, root.GetProperty("aud").GetString());
            Assert.Equal(Email, root.GetProperty("email_claim").GetString());
            Assert.Equal(200, root.GetProperty("status").GetInt32());
            using var whoami = JsonDocument.Parse(root.GetProperty("body").GetString()!);
            Assert.Equal(audience, whoami.RootElement.GetProperty("audience").GetString());
        }

        Assert.Equal(1, stack.Metadata.IdentityRequests(CloudRunStack.ServiceUrl));
        Assert.Equal(1, stack.Metadata.IdentityRequests("https://custom.example"));
    }

    private static async Task<JsonElement> CallCloudRunAsync(CloudRunStack stack, string jwt)
    {
        using var cloudRun = new HttpClient(stack.Authority.CreateHttpHandler(new IPEndPoint(IPAddress.Loopback, stack.CloudRun.Port))) { Timeout = TestWait.Limit };
        using var call = new HttpRequestMessage(HttpMethod.Get, $"https://{CloudRunStack.ServiceHost}:{stack.CloudRun.Port}/whoami");
        call.Headers.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
        using var answer = await cloudRun.SendAsync(call).Bounded();
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
