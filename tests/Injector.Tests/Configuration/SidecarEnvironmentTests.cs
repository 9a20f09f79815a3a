using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TokenInjector.Configuration;

namespace TokenInjector.Tests.Configuration;

/// <summary>
/// What <c>injector sidecar</c> reads from its own environment (<c>GCE_METADATA_HOST</c>, and with
/// <c>--token-source adc</c> the credentials file), in process: the environment is an input of
/// <see cref="SidecarSettings.From"/>, so none of these needs a child process or a change of the test process's
/// environment. <c>AdcSourceTests</c> keeps the exit code 2 of the real process.
/// </summary>
public sealed class SidecarEnvironmentTests : IDisposable
{
    private const string Email = "app@demo-project.iam.gserviceaccount.com";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void MetadataServer_NoGceMetadataHost_IsTheLinkLocalServer()
    {
        var settings = From(["--metadata", "8988"], []);

        Assert.Equal(SidecarContract.DefaultMetadataServer, settings.MetadataServer);
    }

    [Fact]
    public void MetadataServer_GceMetadataHost_IsTakenTrimmed()
    {
        var settings = From(["--metadata", "8988"], new() { ["GCE_METADATA_HOST"] = " 10.0.0.5:8080 " });

        Assert.Equal("10.0.0.5:8080", settings.MetadataServer);
    }

    public static TheoryData<string, string> MetadataHostsThatLoop() => new()
    {
        { "localhost", "localhost:8988" },
        { "IPv4 loopback", "127.0.0.1:8988" },
        { "another IPv4 loopback", "127.1.2.3:8988" },
        { "IPv6 loopback", "[::1]:8988" },
    };

    [Theory]
    [MemberData(nameof(MetadataHostsThatLoop))]
    public void MetadataServer_NamingTheEndpointItself_IsRefusedAtStart(string name, string value)
    {
        var errors = Errors(["--metadata", "8988"], new() { ["GCE_METADATA_HOST"] = value });

        var error = Assert.Single(errors);
        Assert.True(
            error == $"--metadata: GCE_METADATA_HOST={value} in the sidecar's own environment names this endpoint; it must name the real metadata server (set it only in the app containers)",
            $"{name}: {error}");
    }

    [Theory]
    [InlineData("127.0.0.1:8989")]
    [InlineData("10.0.0.1:8988")]
    [InlineData("metadata.google.internal")]
    public void MetadataServer_ElsewhereOrOnAnotherPort_IsAccepted(string value)
    {
        Assert.Equal(value, From(["--metadata", "8988"], new() { ["GCE_METADATA_HOST"] = value }).MetadataServer);
    }

    [Fact]
    public void MetadataServer_NotHostAndPort_IsRefusedOnlyWhenTheEndpointWouldForwardToIt()
    {
        var errors = Errors(["--metadata", "8988"], new() { ["GCE_METADATA_HOST"] = "a b:x" });

        Assert.Equal(["--metadata: GCE_METADATA_HOST=a b:x is not HOST[:PORT], so the endpoint has nowhere to forward"], errors);
        Assert.Equal("a b:x", From(["--audience", "a"], new() { ["GCE_METADATA_HOST"] = "a b:x" }).MetadataServer);
    }

    [Fact]
    public void Adc_NoFileNamedAndNoHome_MeansTheMetadataServer()
    {
        var settings = From(["--token-source", "adc"], []);

        Assert.Equal(TokenSourceKind.Adc, settings.TokenSource);
        Assert.Null(settings.AdcCredentials);
    }

    [Fact]
    public void Adc_ServiceAccountKeyNamedByTheVariable_IsReadAtStart()
    {
        var file = Write("key.json", ServiceAccountKey());

        var credentials = From(["--token-source", "adc"], new() { ["GOOGLE_APPLICATION_CREDENTIALS"] = file }).AdcCredentials;

        Assert.NotNull(credentials);
        Assert.Equal((file, "service_account", Email, "demo-project"), (credentials.Path, credentials.Kind, credentials.ServiceAccountEmail, credentials.ProjectId));
        Assert.NotNull(credentials.Credential);
    }

    [Fact]
    public void Adc_GcloudsFileUnderHome_IsReadWhenNoVariableNamesOne()
    {
        var file = Write(".config/gcloud/application_default_credentials.json", ServiceAccountKey());

        var credentials = From(["--token-source", "adc"], new() { ["HOME"] = _directory.Path }).AdcCredentials;

        Assert.Equal(file, credentials?.Path);
    }

    [Fact]
    public void Adc_ImpersonatedServiceAccount_NamesGenerateIdTokenAndTheDelegates()
    {
        var file = Write("impersonated.json", new JsonObject
        {
            ["type"] = "impersonated_service_account",
            ["service_account_impersonation_url"] = $"https://iam.example/v1/projects/-/serviceAccounts/{Email}:generateAccessToken",
            ["delegates"] = new JsonArray("middle@demo-project.iam.gserviceaccount.com"),
            ["source_credentials"] = JsonNode.Parse(ServiceAccountKey()),
        }.ToJsonString());

        var credentials = From(["--token-source", "adc"], new() { ["GOOGLE_APPLICATION_CREDENTIALS"] = file }).AdcCredentials;

        Assert.NotNull(credentials);
        Assert.Equal("impersonated_service_account", credentials.Kind);
        Assert.Equal($"https://iam.example/v1/projects/-/serviceAccounts/{Email}:generateIdToken", credentials.GenerateIdTokenUrl?.AbsoluteUri);
        Assert.Equal(["middle@demo-project.iam.gserviceaccount.com"], credentials.Delegates);
        Assert.Equal(Email, credentials.ServiceAccountEmail);
    }

    [Fact]
    public void Adc_WithTheMetadataSource_TheFileIsNotRead()
    {
        var settings = From(["--audience", "a"], new() { ["GOOGLE_APPLICATION_CREDENTIALS"] = "/nonexistent/credentials.json" });

        Assert.Null(settings.AdcCredentials);
    }

    public static TheoryData<string, string?, string> UnusableFiles() => new()
    {
        { "user credentials", """{"type":"authorized_user","client_id":"id","client_secret":"secret","refresh_token":"refresh"}""", "holds user credentials (authorized_user, from gcloud auth application-default login), which cannot mint ID tokens for an audience; use a service-account key file, or impersonate a service account: gcloud auth application-default login --impersonate-service-account SERVICE_ACCOUNT_EMAIL" },
        { "a key without its key", """{"type":"service_account"}""", "is not a usable credentials file: " },
        { "not JSON", "not json", "is not a usable credentials file: " },
        { "no type", "{}", "has credentials of type '(none)', which cannot mint ID tokens here; use a service-account key file (service_account), an impersonated service account (impersonated_service_account) or Workload Identity Federation with service account impersonation (external_account)" },
        { "impersonation without source", """{"type":"impersonated_service_account","service_account_impersonation_url":"https://iam.example/v1/projects/-/serviceAccounts/a@b:generateAccessToken"}""", "is an impersonated service account without source_credentials" },
        { "impersonation URL of another API", """{"type":"impersonated_service_account","service_account_impersonation_url":"https://iam.example/v1/x:signJwt"}""", "is an impersonated service account whose service_account_impersonation_url is not an http(s) URL ending in :generateAccessToken" },
        { "no such file", null, "cannot be read: " },
    };

    [Theory]
    [MemberData(nameof(UnusableFiles))]
    public void Adc_UnusableFile_IsOneErrorOfTokenSourceNamingTheFile(string name, string? content, string expected)
    {
        var file = content is null ? _directory.File("missing.json") : Write("credentials.json", content);

        var errors = Errors(["--token-source", "adc", "--audience", "https://a.run.app"], new() { ["GOOGLE_APPLICATION_CREDENTIALS"] = file });

        var error = Assert.Single(errors);
        Assert.StartsWith($"--token-source: GOOGLE_APPLICATION_CREDENTIALS ({file}) ", error, StringComparison.Ordinal);
        Assert.True(error.Contains(expected, StringComparison.Ordinal), $"{name}: {error}");
        Assert.DoesNotContain("secret", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Adc_UnusableGcloudFile_IsNamedAsGcloudsFile()
    {
        var file = Write(".config/gcloud/application_default_credentials.json", "{}");

        var error = Assert.Single(Errors(["--token-source", "adc", "--audience", "a"], new() { ["HOME"] = _directory.Path }));

        Assert.StartsWith($"--token-source: gcloud's credentials file {file} has credentials of type '(none)'", error, StringComparison.Ordinal);
    }

    private static SidecarSettings From(string[] args, Dictionary<string, string> environment) =>
        SidecarSettings.From(SidecarSettings.Command.Parse(args, _ => null), environment.GetValueOrDefault);

    private static string[] Errors(string[] args, Dictionary<string, string> environment) =>
        [.. Assert.Throws<ConfigurationErrorException>(() => From(args, environment)).Errors];

    // A service-account key file as the IAM console writes it, with a fresh RSA key.
    private static string ServiceAccountKey()
    {
        using var rsa = RSA.Create(2048);
        return new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = "demo-project",
            ["private_key_id"] = "k1",
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = Email,
            ["client_id"] = "1",
            ["token_uri"] = "https://oauth2.example/token",
        }.ToJsonString();
    }

    private string Write(string relativePath, string content)
    {
        var path = Path.Combine(_directory.Path, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }
}
