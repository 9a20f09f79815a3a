using TokenInjector.Configuration;
using TokenInjector.Tokens;

namespace TokenInjector.MetadataApi;

/// <summary>
/// The query of <c>.../service-accounts/{account}/identity</c>, read as the metadata server reads it (Go's
/// <c>net/url</c>: <c>&amp;</c> separates, <c>+</c> is a space, <c>%XX</c> decodes, the first of repeated parameters
/// counts): <c>audience</c> (required, non-empty), <c>format=standard|full</c> (default standard) and
/// <c>licenses=TRUE|FALSE</c> (default FALSE, only meaningful with full).
/// </summary>
internal static class IdentityQuery
{
    /// <summary>The metadata server's own words for a missing or empty audience.</summary>
    public const string MissingAudience = "non-empty audience parameter required";

    /// <returns>The token key, or null with <paramref name="problem"/> saying what is wrong (never quoting more than the parameter names).</returns>
    public static TokenKey? Parse(IQueryCollection query, out string? problem)
    {
        problem = null;
        var audience = First(query, "audience");
        if (string.IsNullOrEmpty(audience))
        {
            problem = MissingAudience;
            return null;
        }

        if (AudienceRules.Problem(audience) is { } audienceProblem)
        {
            problem = "the audience " + audienceProblem;
            return null;
        }

        var full = First(query, "format") switch
        {
            null or "" => false,
            var text when text.Equals("standard", StringComparison.OrdinalIgnoreCase) => false,
            var text when text.Equals("full", StringComparison.OrdinalIgnoreCase) => true,
            _ => (bool?)null,
        };
        var licenses = First(query, "licenses") switch
        {
            null or "" => false,
            var text when text.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
            var text when text.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
            _ => (bool?)null,
        };
        if (full is null || licenses is null)
        {
            problem = full is null ? "format must be standard or full" : "licenses must be TRUE or FALSE";
            return null;
        }

        var format = !full.Value ? TokenFormat.Standard : licenses.Value ? TokenFormat.FullWithLicenses : TokenFormat.Full;
        return new TokenKey(audience, format);
    }

    /// <summary>How the form is written in a log line or an answer.</summary>
    public static string Describe(TokenFormat format) => format switch
    {
        TokenFormat.Standard => "format=standard",
        TokenFormat.FullWithLicenses => "format=full&licenses=TRUE",
        _ => "format=full",
    };

    private static string? First(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
}
