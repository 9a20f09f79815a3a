using System.Text.Json;
using TokenInjector.Emulators.GoogleApis;
using TokenInjector.Emulators.Identity;
using TokenInjector.Emulators.Plumbing;

namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// HTTP control of an emulator running as a separate process (the demo, process-level tests), the counterpart of
/// <see cref="MetadataEmulator"/>'s properties. It lives outside /computeMetadata and needs no flavor header.
/// </summary>
internal sealed class EmulatorControlApi(MetadataFaults faults, IdentityRequestCounter counter, SigningKeyRing keys, GoogleTokenEndpoint google)
{
    /// <summary>The instance attributes that <c>POST /emulator/attributes</c> changes.</summary>
    public InstanceAttributes Attributes { get; } = new();

    internal const string PathPrefix = "/emulator/";

    /// <summary>A subject token that the STS trusts, served as a URL-sourced <c>external_account</c> credential reads one.</summary>
    internal const string SubjectTokenPath = "/emulator/subject-token";

    public MetadataFaults Faults => faults;

    public IdentityRequestCounter Counter => counter;

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        switch (request.Path.Value)
        {
            case "/emulator/stats" when HttpMethods.IsGet(request.Method):
                await HttpAnswers.WriteJsonAsync(context, new EmulatorStats(counter.Snapshot(), counter.Total), MetadataJsonContext.Default.EmulatorStats);
                break;
            case "/emulator/faults" when HttpMethods.IsPost(request.Method):
                await SetFaultsAsync(context);
                break;
            case "/emulator/rotate-key" when HttpMethods.IsPost(request.Method):
                // ?keepPrevious=false drops the old key from the JWKS at once (tokens signed with it stop verifying).
                var dropPrevious = string.Equals(GoQuery.Get(request.QueryString.Value, "keepPrevious"), "false", StringComparison.OrdinalIgnoreCase);
                var key = keys.Rotate(keepPrevious: !dropPrevious);
                await HttpAnswers.WriteJsonAsync(context, new RotatedKey(key.KeyId), MetadataJsonContext.Default.RotatedKey);
                break;
            case "/emulator/service-account-key" when HttpMethods.IsPost(request.Method):
                // A key file whose token_uri is this emulator's /token (the key's public half stays here).
                var baseAddress = new Uri($"{request.Scheme}://{request.Host}/");
                await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, "application/json", google.CreateServiceAccountKey(baseAddress));
                break;
            case "/emulator/attributes" when HttpMethods.IsPost(request.Method):
                await SetAttributesAsync(context);
                break;
            case SubjectTokenPath when HttpMethods.IsGet(request.Method):
                await WriteSubjectTokenAsync(context);
                break;
            case "/emulator/stats" or "/emulator/faults" or "/emulator/rotate-key" or "/emulator/service-account-key" or "/emulator/attributes" or SubjectTokenPath:
                await HttpAnswers.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "text/plain", "method not allowed\n");
                break;
            default:
                await HttpAnswers.WriteAsync(context, StatusCodes.Status404NotFound, "text/plain", "unknown control endpoint\n");
                break;
        }
    }

    // ?subject=S[&format=json]: the pool's trusted issuer's token for S, as text or as Azure's instance metadata service
    // answers ({"access_token": ...}); like that service it wants the request header "Metadata: true", so a client that
    // drops a credential file's credential_source.headers is caught.
    private async Task WriteSubjectTokenAsync(HttpContext context)
    {
        var query = context.Request.QueryString.Value;
        if (context.Request.Headers["Metadata"] != "true")
        {
            await HttpAnswers.WriteAsync(context, StatusCodes.Status400BadRequest, "application/json", "{\"error\":\"invalid_request\",\"error_description\":\"Required metadata header not specified\"}");
            return;
        }

        if (GoQuery.Get(query, "subject") is not { Length: > 0 } subject)
        {
            await HttpAnswers.WriteAsync(context, StatusCodes.Status400BadRequest, "text/plain", "subject is required\n");
            return;
        }

        var token = google.Sts.MintSubjectToken(subject);
        if (GoQuery.Get(query, "format") == "json")
        {
            await HttpAnswers.WriteJsonAsync(context, new SubjectTokenAnswer(token), StsJsonContext.Default.SubjectTokenAnswer);
            return;
        }

        await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, "text/plain", token);
    }

    // {"name": "value", "gone": null}: sets the first, removes the second; each change ends the long polls it concerns.
    private async Task SetAttributesAsync(HttpContext context)
    {
        Dictionary<string, string>? changes; // values may be null: a removal
        try
        {
            changes = await JsonSerializer.DeserializeAsync(context.Request.Body, MetadataJsonContext.Default.DictionaryStringString, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await HttpAnswers.WriteAsync(context, StatusCodes.Status400BadRequest, "text/plain", $"invalid JSON: {ex.Message}\n");
            return;
        }

        if (changes is null || changes.Keys.Any(name => name.Length == 0 || name.Contains('/', StringComparison.Ordinal)))
        {
            await HttpAnswers.WriteAsync(context, StatusCodes.Status400BadRequest, "text/plain", "expected a JSON object of attribute names (no '/') to string values or null\n");
            return;
        }

        foreach (var (name, value) in changes)
        {
            Attributes.Set(name, (string?)value);
        }

        await HttpAnswers.WriteAsync(context, StatusCodes.Status200OK, "text/plain", "ok\n");
    }

    private async Task SetFaultsAsync(HttpContext context)
    {
        FaultSettings? settings;
        try
        {
            settings = await JsonSerializer.DeserializeAsync(context.Request.Body, MetadataJsonContext.Default.FaultSettings, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await HttpAnswers.WriteAsync(context, StatusCodes.Status400BadRequest, "text/plain", $"invalid JSON: {ex.Message}\n");
            return;
        }

        settings ??= new FaultSettings(null, 0, false);
        if (settings.Status is < 100 or > 599 || settings.LatencyMs < 0)
        {
            await HttpAnswers.WriteAsync(context, StatusCodes.Status400BadRequest, "text/plain", "status must be 100-599 or null, latencyMs >= 0\n");
            return;
        }

        var refusal = settings.IdentityRefusal is { } name ? IdentityRefusal.Named(name) : null;
        if (settings.IdentityRefusal is not null && refusal is null)
        {
            await HttpAnswers.WriteAsync(context, StatusCodes.Status400BadRequest, "text/plain",
                $"identityRefusal must be {IdentityRefusal.NoServiceAccountName}, {IdentityRefusal.KsaNotAllowedName} or null\n");
            return;
        }

        faults.Status = settings.Status;
        faults.Latency = TimeSpan.FromMilliseconds(settings.LatencyMs);
        faults.Hang = settings.Hang;
        faults.WrongAudience = settings.WrongAudience;
        faults.IdentityRefusal = refusal;
        var current = new FaultSettings(faults.Status, (long)faults.Latency.TotalMilliseconds, faults.Hang, faults.WrongAudience, faults.IdentityRefusal?.Name);
        await HttpAnswers.WriteJsonAsync(context, current, MetadataJsonContext.Default.FaultSettings);
    }
}
