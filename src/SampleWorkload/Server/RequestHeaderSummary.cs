namespace TokenInjector.SampleWorkload.Server;

/// <summary>
/// The request metadata a reply reports back, so a test or a demo can see what the sidecar forwarded:
/// the authority, the app's own <c>x-custom</c> header and deadline, and whether credentials were attached
/// ("present"/"absent", never their values).
/// </summary>
internal static class RequestHeaderSummary
{
    public const string Present = "present";
    public const string Absent = "absent";

    private static readonly string[] CopiedWhenSent = ["x-custom", "grpc-timeout"];

    public static Dictionary<string, string> From(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var headers = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // HTTP/2's :authority is surfaced as Host by Kestrel.
            [":authority"] = request.Host.Value ?? string.Empty,
            [CallerIdentityReader.AuthorizationHeader] = PresentOrAbsent(request, CallerIdentityReader.AuthorizationHeader),
            [CallerIdentityReader.ServerlessAuthorizationHeader] =
                PresentOrAbsent(request, CallerIdentityReader.ServerlessAuthorizationHeader),
        };
        foreach (var name in CopiedWhenSent)
        {
            if (Lookup(request, name) is { } value)
            {
                headers[name] = value;
            }
        }

        return headers;
    }

    /// <summary>A header's value, or null when the request does not carry it.</summary>
    public static string? Lookup(HttpRequest request, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Headers.TryGetValue(name, out var value) && value.Count > 0 ? value.ToString() : null;
    }

    private static string PresentOrAbsent(HttpRequest request, string name) =>
        Lookup(request, name) is null ? Absent : Present;
}
