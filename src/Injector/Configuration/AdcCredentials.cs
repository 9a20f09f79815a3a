using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2;

namespace TokenInjector.Configuration;

/// <summary>
/// The Application Default Credentials file (<c>GOOGLE_APPLICATION_CREDENTIALS</c>, else gcloud's well-known file),
/// read once at start so that a file that can never mint an ID token stops the sidecar with a reason, rather than
/// failing every fetch later. Three kinds can mint ID tokens for an audience: a service-account key
/// (<see cref="Credential"/>), an impersonated service account and an external account that impersonates one
/// (<see cref="ImpersonationSource"/>, a key, a user or a federated identity, calls <see cref="GenerateIdTokenUrl"/>). Without a file, ADC means the metadata server of the machine (GCE, GKE).
/// </summary>
internal sealed class AdcCredentials
{
    public const string EnvironmentVariable = "GOOGLE_APPLICATION_CREDENTIALS";

    private const string ImpersonatedServiceAccount = "impersonated_service_account";
    private const string GenerateAccessToken = ":generateAccessToken";
    private const string ImpersonationUrlField = "service_account_impersonation_url";
    private const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    private AdcCredentials(string path, string kind)
    {
        Path = path;
        Kind = kind;
    }

    /// <summary>The file the credentials came from.</summary>
    public string Path { get; }

    /// <summary>The file's <c>type</c>: <c>service_account</c>, <c>impersonated_service_account</c> or <c>external_account</c>.</summary>
    public string Kind { get; }

    /// <summary>A service-account key, which mints ID tokens at its own <c>token_uri</c>.</summary>
    public GoogleCredential? Credential { get; private init; }

    /// <summary>For an impersonated service account or an external account: the credential that calls IAM on its behalf.</summary>
    public GoogleCredential? ImpersonationSource { get; private init; }

    /// <summary>For an impersonated service account or an external account: <c>generateIdToken</c> beside the file's <c>generateAccessToken</c> URL.</summary>
    public Uri? GenerateIdTokenUrl { get; private init; }

    /// <summary>For an impersonated service account or an external account: the account the URL names (an email or a unique id).</summary>
    public string? ImpersonatedAccount { get; private init; }

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
            case JsonCredentialParameters.ExternalAccountCredentialType:
                return ExternalAccount(path, root, origin, out problem);
            case JsonCredentialParameters.AuthorizedUserCredentialType:
                problem = $"{origin} holds user credentials (authorized_user, from gcloud auth application-default login), which cannot mint ID tokens for an audience;"
                    + " use a service-account key file, or impersonate a service account: gcloud auth application-default login --impersonate-service-account SERVICE_ACCOUNT_EMAIL";
                return null;
            default:
                problem = $"{origin} has credentials of type '{Shown(kind)}', which cannot mint ID tokens here;"
                    + " use a service-account key file (service_account), an impersonated service account (impersonated_service_account)"
                    + " or Workload Identity Federation with service account impersonation (external_account)";
                return null;
        }
    }

    private static AdcCredentials? Impersonated(string path, JsonElement root, string origin, out string? problem)
    {
        problem = null;
        if (GenerateIdTokenBeside(root) is not { } idTokenUrl)
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
        var sourceCredential = CredentialFactory.FromJson(source.GetRawText(), sourceKind).CreateScoped(CloudPlatformScope);
        var (account, email) = AccountOf(idTokenUrl);
        return new AdcCredentials(path, ImpersonatedServiceAccount)
        {
            ImpersonationSource = sourceCredential,
            GenerateIdTokenUrl = idTokenUrl,
            ImpersonatedAccount = account,
            Delegates = delegates,
            ServiceAccountEmail = email,
            ProjectId = ProjectOf(email),
        };
    }

    /// <summary>
    /// Workload Identity Federation (and fleet workload identity): the file's subject token is exchanged at its
    /// <c>token_url</c> (Google's Security Token Service) for a federated access token, which then authorises
    /// <c>generateIdToken</c> beside the file's <c>service_account_impersonation_url</c>. Google.Apis.Auth reads the
    /// subject token and makes the exchange: it is handed the file without the impersonation URL, so that it stops at
    /// the federated token (with the URL it would make an access token of the account, which cannot become an ID token).
    /// </summary>
    private static AdcCredentials? ExternalAccount(string path, JsonElement root, string origin, out string? problem)
    {
        problem = null;
        if (GenerateIdTokenBeside(root) is not { } idTokenUrl)
        {
            problem = root.TryGetProperty(ImpersonationUrlField, out _)
                ? $"{origin} is an external_account whose {ImpersonationUrlField} is not an http(s) URL ending in {GenerateAccessToken}"
                : $"{origin} is an external_account without {ImpersonationUrlField}: an ID token needs a service account to act as;"
                    + " write the file with gcloud iam workload-identity-pools create-cred-config ... --service-account=SERVICE_ACCOUNT_EMAIL"
                    + " and grant the pool's principal roles/iam.workloadIdentityUser on that account";
            return null;
        }

        problem = ExternalAccountProblem(root);
        if (problem is not null)
        {
            problem = $"{origin} is an external_account {problem}";
            return null;
        }

        var withoutImpersonation = JsonNode.Parse(root.GetRawText())!.AsObject();
        withoutImpersonation.Remove(ImpersonationUrlField);
        withoutImpersonation.Remove("service_account_impersonation");
        var federated = CredentialFactory.FromJson(withoutImpersonation.ToJsonString(), JsonCredentialParameters.ExternalAccountCredentialType)
            .CreateScoped(CloudPlatformScope);
        var (account, email) = AccountOf(idTokenUrl);
        return new AdcCredentials(path, JsonCredentialParameters.ExternalAccountCredentialType)
        {
            ImpersonationSource = federated,
            GenerateIdTokenUrl = idTokenUrl,
            ImpersonatedAccount = account,
            ServiceAccountEmail = email,
            ProjectId = ProjectOf(email),
        };
    }

    // What is wrong with an external_account file's exchange settings and credential_source, or null. The library
    // accepts more (AWS, and in later versions executables and certificates), but only file and URL subject tokens are
    // proven here against an STS (scripts/aot-smoke runs them in the published binary).
    private static string? ExternalAccountProblem(JsonElement root)
    {
        foreach (var field in (string[])["audience", "subject_token_type", "token_url"])
        {
            if (!root.TryGetProperty(field, out var value) || value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
            {
                return $"without {field}";
            }
        }

        if (!IsHttpUrl(root.GetProperty("token_url").GetString()))
        {
            return "whose token_url is not an http(s) URL";
        }

        if (!root.TryGetProperty("credential_source", out var source) || source.ValueKind != JsonValueKind.Object)
        {
            return "without a credential_source object";
        }

        if (source.TryGetProperty("file", out var file))
        {
            if (file.ValueKind != JsonValueKind.String || file.GetString()!.Length == 0)
            {
                return "whose credential_source.file is not a file name";
            }
        }
        else if (source.TryGetProperty("url", out var url))
        {
            if (url.ValueKind != JsonValueKind.String || !IsHttpUrl(url.GetString()))
            {
                return "whose credential_source.url is not an http(s) URL";
            }

            if (source.TryGetProperty("headers", out var headers)
                && (headers.ValueKind != JsonValueKind.Object || headers.EnumerateObject().Any(header => header.Value.ValueKind != JsonValueKind.String)))
            {
                return "whose credential_source.headers is not an object of header names to strings";
            }
        }
        else
        {
            var kind = source.TryGetProperty("environment_id", out _) ? "AWS (environment_id)"
                : source.TryGetProperty("executable", out _) ? "an executable"
                : source.TryGetProperty("certificate", out _) ? "an X.509 certificate"
                : "an unknown kind";
            return $"whose credential_source is {kind}, which the sidecar does not support;"
                + " supported: file (a token file, such as a projected Kubernetes service-account token) and url (a token from an HTTP endpoint)";
        }

        if (!source.TryGetProperty("format", out var format))
        {
            return null;
        }

        var formatType = format.ValueKind == JsonValueKind.Object && format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()
            : null;
        return formatType switch
        {
            "text" => null,
            "json" when format.TryGetProperty("subject_token_field_name", out var field) && field.ValueKind == JsonValueKind.String && field.GetString()!.Length > 0 => null,
            "json" => "whose credential_source.format of type json has no subject_token_field_name",
            _ => $"whose credential_source.format.type is '{Shown(formatType)}'; expected text or json",
        };
    }

    // IAM Credentials' generateIdToken beside the file's .../serviceAccounts/EMAIL:generateAccessToken, or null.
    private static Uri? GenerateIdTokenBeside(JsonElement root)
    {
        var url = root.TryGetProperty(ImpersonationUrlField, out var urlElement) && urlElement.ValueKind == JsonValueKind.String
            ? urlElement.GetString()
            : null;
        return url is not null && url.EndsWith(GenerateAccessToken, StringComparison.Ordinal)
            && Uri.TryCreate(url[..^GenerateAccessToken.Length] + ":generateIdToken", UriKind.Absolute, out var idTokenUrl)
            && (idTokenUrl.Scheme == Uri.UriSchemeHttps || idTokenUrl.Scheme == Uri.UriSchemeHttp)
            ? idTokenUrl
            : null;
    }

    // .../projects/-/serviceAccounts/ACCOUNT:generateIdToken names the account, and its email where ACCOUNT is one.
    private static (string Account, string? Email) AccountOf(Uri idTokenUrl)
    {
        var account = Uri.UnescapeDataString(idTokenUrl.AbsolutePath.Split('/')[^1][..^":generateIdToken".Length]);
        return (account, account.Contains('@', StringComparison.Ordinal) ? account : null);
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

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
