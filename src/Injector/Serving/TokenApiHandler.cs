using System.Globalization;
using System.Text.Json.Serialization;
using TokenInjector.Configuration;
using TokenInjector.Plumbing;
using TokenInjector.Tokens;

namespace TokenInjector.Serving;

/// <summary>
/// <c>GET /v1/token?audience=A</c>: the token as text, or as JSON with <c>Accept: application/json</c>.
/// Every refusal is a short plain-text line that says what to do instead.
/// </summary>
internal sealed class TokenApiHandler(ITokenCache cache, TokenMetrics metrics)
{
    public const string TokenPath = "/v1/token";
    public const int MaxQueryLength = 64 * 1024;
    private const string Usage = "use GET /v1/token?audience=AUDIENCE";

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers.CacheControl = "no-store";
        if (request.Path != TokenPath)
        {
            await PlainText.WriteAsync(context.Response, StatusCodes.Status404NotFound, $"not found: the token API has one path; {Usage}");
            return;
        }

        if (!HttpMethods.IsGet(request.Method))
        {
            context.Response.Headers.Allow = "GET";
            await PlainText.WriteAsync(context.Response, StatusCodes.Status405MethodNotAllowed, $"method not allowed; {Usage}");
            return;
        }

        if (request.QueryString.Value?.Length > MaxQueryLength)
        {
            Count("other", "bad_request");
            await PlainText.WriteAsync(context.Response, StatusCodes.Status414UriTooLong, $"query too long: at most {MaxQueryLength} characters; {Usage}");
            return;
        }

        var audiences = request.Query["audience"];
        var audience = audiences.Count == 1 ? audiences[0] : null;
        var problem = audiences.Count switch
        {
            0 => $"missing audience; {Usage}",
            > 1 => "give exactly one audience parameter",
            _ => AudienceRules.Problem(audience) is { } audienceProblem ? $"the audience {audienceProblem}" : null,
        };
        if (problem is not null)
        {
            Count("other", "bad_request");
            await PlainText.WriteAsync(context.Response, StatusCodes.Status400BadRequest, problem);
            return;
        }

        var lookup = await cache.GetTokenAsync(audience!, context.RequestAborted);
        var label = cache.MetricLabel(audience!);
        switch (lookup.Status)
        {
            case TokenLookupStatus.Ok:
                Count(label, "ok");
                await WriteToken(context, audience!, lookup.Token!);
                break;
            case TokenLookupStatus.NotAllowed:
                Count(label, "denied");
                await PlainText.WriteAsync(context.Response, StatusCodes.Status403Forbidden,
                    "audience not allowed: dynamic audiences are off; configure it with --audience or a route");
                break;
            default:
                Count(label, "unavailable");
                var seconds = Math.Max(1, (int)Math.Ceiling(lookup.RetryAfter.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await PlainText.WriteAsync(context.Response, StatusCodes.Status503ServiceUnavailable,
                    $"no valid token for this audience yet ({lookup.Problem ?? "the token is being fetched"}); retry in {seconds} s");
                break;
        }
    }

    private static Task WriteToken(HttpContext context, string audience, IdToken token)
    {
        if (context.Request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            var body = new TokenResponseBody(token.Value, audience, token.ExpiresAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            return context.Response.WriteAsJsonAsync(body, TokenApiJsonContext.Default.TokenResponseBody);
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(token.Value);
    }

    private void Count(string audienceLabel, string result) => metrics.Requests.WithLabels(audienceLabel, result).Inc();
}

/// <summary>The JSON form of a token answer.</summary>
internal sealed record TokenResponseBody(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("audience")] string Audience,
    [property: JsonPropertyName("expiresAt")] string ExpiresAt);

[JsonSerializable(typeof(TokenResponseBody))]
internal sealed partial class TokenApiJsonContext : JsonSerializerContext;
