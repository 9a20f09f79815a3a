using System.Text.Json;
using Google.Apis.Auth.OAuth2;

namespace TokenInjector.Configuration;

/// <summary>
/// The Application Default Credentials file (<c>GOOGLE_APPLICATION_CREDENTIALS</c>, else gcloud's well-known file),
/// read once at start so that a file that can never mint an ID token stops the sidecar with a reason, rather than
/// failing every fetch later. Two kinds can mint ID tokens for an audience: a service-account key
/// (<see cref="Credential"/>) and an impersonated service account (<see cref="ImpersonationSource"/> calls
/// <see cref="GenerateIdTokenUrl"/>). Without a file, ADC means the metadata server of the machine (GCE, GKE).
/// </summary>
internal sealed class AdcCredentials
{
    public const string EnvironmentVariable = "GOOGLE_APPLICATION_CREDENTIALS";

    private const string ImpersonatedServiceAccount = "impersonated_service_account";
    private const string GenerateAccessToken = ":generateAccessToken";

    private AdcCredentials(string path, string kind)
    {
        Path = path;
        Kind = kind;
    }

    /// <summary>The file the credentials came from.</summary>
    public string Path { get; }

    /// <summary>The file's <c>type</c>: <c>service_account</c> or <c>impersonated_service_account</c>.</summary>
    public string Kind { get; }

    /// <summary>A service-account key, which mints ID tokens at its own <c>token_uri</c>.</summary>
    public GoogleCredential? Credential { get; private init; }

    /// <summary>For an impersonated service account: the credential that calls IAM on its behalf.</summary>
    public GoogleCredential? ImpersonationSource { get; private init; }

    /// <summary>For an impersonated service account: <c>generateIdToken</c> beside the file's <c>generateAccessToken</c> URL.</summary>
    public Uri? GenerateIdTokenUrl { get; private init; }

    /// <summary>For an impersonated service account: the delegation chain the file names.</summary>
    public IReadOnlyList<string> Delegates { get; private init; } = [];

    /// <summary>The service account whose tokens these credentials mint (a key's <c>client_email</c>, the impersonated account), where the file tells.</summary>
    public string? ServiceAccountEmail { get; private init; }

    /// <summary>The project of that account (a key's <c>project_id</c>, else the domain of a user-managed account's email), where known.</summary>
    public string? ProjectId { get; private init; }

    /// <summary>
    /// Finds and reads the credentials file. Returns null with no <paramref name="problem"/> when there is no file (the
    /// metadata server is then used); returns null with a problem (one line, what to do) when the file is unusable.
    /// </summary>
    public static AdcCredentials? Load(Func<string, string?> environment, out string? problem)
    {
        problem = null;
        var path = environment(EnvironmentVariable);
        var named = !string.IsNullOrWhiteSpace(path);
        if (!named)
        {
            path = WellKnownFile(environment);
            if (path is null || !File.Exists(path))
            {
                return null;
            }
        }

        var origin = named ? $"{EnvironmentVariable} ({path})" : $"gcloud's credentials file {path}";
        string json;
        try
        {
            json = File.ReadAllText(path!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = $"{origin} cannot be read: {ex.Message}";
            return null;
        }

        try
        {
            return FromJson(path!, json, origin, out problem);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            // The library's messages about a credential file name fields, never their values.
            problem = $"{origin} is not a usable credentials file: {ex.Message}";
            return null;
        }
    }

    private static AdcCredentials? FromJson(string path, string json, string origin, out string? problem)
    {
        problem = null;
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var kind = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()!
            : null;
        switch (kind)
        {
            case JsonCredentialParameters.ServiceAccountCredentialType:
                var key = CredentialFactory.FromJson<ServiceAccountCredential>(json);
                return new AdcCredentials(path, kind)
                {
                    Credential = key.ToGoogleCredential(),
                    ServiceAccountEmail = key.Id,
                    ProjectId = key.ProjectId ?? ProjectOf(key.Id),
                };
            case ImpersonatedServiceAccount:
                return Impersonated(path, root, origin, out problem);
            case JsonCredentialParameters.AuthorizedUserCredentialType:
                problem = $"{origin} holds user credentials (authorized_user, from gcloud auth application-default login), which cannot mint ID tokens for an audience;"
                    + " use a service-account key file, or impersonate a service account: gcloud auth application-default login --impersonate-service-account SERVICE_ACCOUNT_EMAIL";
                return null;
            default:
                problem = $"{origin} has credentials of type '{Shown(kind)}', which cannot mint ID tokens here;"
                    + " use a service-account key file (service_account) or an impersonated service account (impersonated_service_account)";
                return null;
        }
    }

    private static AdcCredentials? Impersonated(string path, JsonElement root, string origin, out string? problem)
    {
        problem = null;
        var url = root.TryGetProperty("service_account_impersonation_url", out var urlElement) && urlElement.ValueKind == JsonValueKind.String
            ? urlElement.GetString()
            : null;
        if (url is null || !url.EndsWith(GenerateAccessToken, StringComparison.Ordinal)
            || !Uri.TryCreate(url[..^GenerateAccessToken.Length] + ":generateIdToken", UriKind.Absolute, out var idTokenUrl)
            || (idTokenUrl.Scheme != Uri.UriSchemeHttps && idTokenUrl.Scheme != Uri.UriSchemeHttp))
        {
            problem = $"{origin} is an impersonated service account whose service_account_impersonation_url is not an http(s) URL ending in {GenerateAccessToken}";
            return null;
        }

        if (!root.TryGetProperty("source_credentials", out var source) || source.ValueKind != JsonValueKind.Object)
        {
            problem = $"{origin} is an impersonated service account without source_credentials";
            return null;
        }

        var delegates = new List<string>();
        if (root.TryGetProperty("delegates", out var delegatesElement) && delegatesElement.ValueKind == JsonValueKind.Array)
        {
            delegates.AddRange(delegatesElement.EnumerateArray().Where(d => d.ValueKind == JsonValueKind.String).Select(d => d.GetString()!));
        }

        var sourceKind = source.TryGetProperty("type", out var sourceType) && sourceType.ValueKind == JsonValueKind.String ? sourceType.GetString() : null;
        if (sourceKind is not (JsonCredentialParameters.ServiceAccountCredentialType or JsonCredentialParameters.AuthorizedUserCredentialType))
        {
            problem = $"{origin} is an impersonated service account whose source_credentials are of type '{Shown(sourceKind)}'; expected authorized_user or service_account";
            return null;
        }

        // The source (a user or a service-account key) only needs an access token that may call IAM.
        var sourceCredential = CredentialFactory.FromJson(source.GetRawText(), sourceKind)
            .CreateScoped("https://www.googleapis.com/auth/cloud-platform");
        // .../projects/-/serviceAccounts/EMAIL:generateAccessToken
        var account = Uri.UnescapeDataString(url[..^GenerateAccessToken.Length].Split('/')[^1]);
        var email = account.Contains('@', StringComparison.Ordinal) ? account : null;
        return new AdcCredentials(path, ImpersonatedServiceAccount)
        {
            ImpersonationSource = sourceCredential,
            GenerateIdTokenUrl = idTokenUrl,
            Delegates = delegates,
            ServiceAccountEmail = email,
            ProjectId = ProjectOf(email),
        };
    }

    // NAME@PROJECT.iam.gserviceaccount.com is user-managed and belongs to PROJECT; other accounts do not say.
    private static string? ProjectOf(string? email)
    {
        const string UserManaged = ".iam.gserviceaccount.com";
        var at = email?.IndexOf('@', StringComparison.Ordinal) ?? -1;
        return at > 0 && email!.EndsWith(UserManaged, StringComparison.Ordinal) && email.Length > at + 1 + UserManaged.Length
            ? email[(at + 1)..^UserManaged.Length]
            : null;
    }

    // gcloud's file, where Google.Apis.Auth looks for it too: $HOME/.config/gcloud/application_default_credentials.json.
    private static string? WellKnownFile(Func<string, string?> environment) =>
        environment("HOME") is { Length: > 0 } home
            ? System.IO.Path.Combine(home, ".config", "gcloud", "application_default_credentials.json")
            : null;

    private static string Shown(string? kind) =>
        kind is null ? "(none)" : kind.Length <= 64 && kind.All(c => c is >= ' ' and <= '~') ? kind : "(unprintable)";
}
