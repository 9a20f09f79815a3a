using System.Text.Json.Nodes;
using TokenInjector.Emulators.GoogleApis;
using TokenInjector.Emulators.Metadata;

namespace TokenInjector.DevStack.Stack;

/// <summary>
/// <c>external_account</c> credential files for the metadata emulator's workload identity pool, in the shape
/// <c>gcloud iam workload-identity-pools create-cred-config … --service-account=EMAIL</c> writes them: the
/// <c>token_url</c> is the emulator's Security Token Service and the <c>service_account_impersonation_url</c> its IAM,
/// so a sidecar given such a file reaches Google's endpoints only in the emulator. One definition for the tests and
/// <c>demo smoke</c>.
/// </summary>
internal static class ExternalAccountFile
{
    /// <summary>A Kubernetes service account's subject, as a cluster's token issuer writes it in <c>sub</c>.</summary>
    public const string KubernetesSubject = "system:serviceaccount:shop:checkout";

    /// <summary>The header the emulator's subject-token URL wants (as Azure's instance metadata service does).</summary>
    public static IReadOnlyDictionary<string, string> SubjectTokenHeaders { get; } = new Dictionary<string, string> { ["Metadata"] = "true" };

    /// <summary>The file's JSON for <paramref name="serviceAccountEmail"/> and a subject token from <paramref name="credentialSource"/>.</summary>
    public static string Json(Uri metadataBaseAddress, string serviceAccountEmail, JsonObject credentialSource) => new JsonObject
    {
        ["type"] = "external_account",
        ["audience"] = SecurityTokenService.ProviderAudience,
        ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
        ["token_url"] = new Uri(metadataBaseAddress, SecurityTokenService.TokenPath.TrimStart('/')).AbsoluteUri,
        ["service_account_impersonation_url"] = new Uri(
            metadataBaseAddress, $"{GoogleTokenEndpoint.IamPathPrefix.TrimStart('/')}{serviceAccountEmail}:generateAccessToken").AbsoluteUri,
        ["credential_source"] = credentialSource,
        ["universe_domain"] = "googleapis.com",
    }.ToJsonString();

    /// <summary>A token file (a projected service-account token); as JSON, the token is in <paramref name="jsonField"/>.</summary>
    public static JsonObject FileSource(string path, string? jsonField = null) => WithFormat(new JsonObject { ["file"] = path }, jsonField);

    /// <summary>The emulator's subject-token URL for <paramref name="subject"/>, with the header it wants; as JSON, the token is in <c>access_token</c>.</summary>
    public static JsonObject UrlSource(Uri metadataBaseAddress, string subject, bool json) => WithFormat(
        new JsonObject
        {
            ["url"] = SubjectTokenUrl(metadataBaseAddress, subject, json).AbsoluteUri,
            ["headers"] = new JsonObject(SubjectTokenHeaders.Select(header => KeyValuePair.Create(header.Key, (JsonNode?)header.Value))),
        },
        json ? "access_token" : null);

    /// <summary>Where the emulator serves a subject token it trusts for <paramref name="subject"/>.</summary>
    public static Uri SubjectTokenUrl(Uri metadataBaseAddress, string subject, bool json) => new(
        metadataBaseAddress,
        $"{EmulatorControlApi.SubjectTokenPath.TrimStart('/')}?subject={Uri.EscapeDataString(subject)}{(json ? "&format=json" : string.Empty)}");

    private static JsonObject WithFormat(JsonObject source, string? jsonField)
    {
        source["format"] = jsonField is null
            ? new JsonObject { ["type"] = "text" }
            : new JsonObject { ["type"] = "json", ["subject_token_field_name"] = jsonField };
        return source;
    }
}
