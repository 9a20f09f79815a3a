using System.Diagnostics.CodeAnalysis;

namespace TokenInjector.Configuration;

/// <summary>
/// One entry of the egress listener's allowlist (<c>--egress-host</c>, the <c>token-injector.dev/egress-hosts</c>
/// annotation): an exact host, or <c>*.SUFFIX</c> for every host below SUFFIX at any depth (<c>*.run.app</c> takes
/// <c>svc-abc-uc.a.run.app</c>, not <c>run.app</c> itself). Requests to a matching host get a token for
/// <see cref="Audience"/>, or for <c>https://HOST</c> (the Cloud Run service URL) when none is given, in the
/// <see cref="Header"/> it names or the sidecar's <c>--auth-header</c> (null). Hosts are compared in
/// <see cref="HostName"/>'s canonical form.
/// </summary>
internal sealed record EgressHostSpec(string Pattern, string? Audience, AuthHeaderMode? Header = null)
{
    public const string Syntax = "PATTERN" + TargetParameters.HeaderSyntax + "[=AUDIENCE]";

    /// <summary>The allowlist when <c>--egress</c> is given without <c>--egress-host</c>: every Cloud Run service.</summary>
    public static readonly EgressHostSpec RunApp = new("*.run.app", null);

    public bool IsWildcard => Pattern.StartsWith("*.", StringComparison.Ordinal);

    /// <summary>Whether <paramref name="host"/> (canonical) is this entry's host or, for a wildcard, below its suffix.</summary>
    public bool Matches(string host) => IsWildcard
        ? host.Length > Pattern.Length - 1 && host.EndsWith(Pattern.AsSpan(1), StringComparison.Ordinal)
        : host == Pattern;

    /// <summary>The audience of the tokens for <paramref name="host"/>.</summary>
    public string AudienceFor(string host) => Audience ?? "https://" + host;

    /// <summary>The entry as <see cref="TryParse"/> reads it (the webhook writes it into the sidecar's arguments).</summary>
    public override string ToString() => Pattern + TargetParameters.Format(Header) + (Audience is null ? string.Empty : "=" + Audience);

    public static bool TryParse(string text, [NotNullWhen(true)] out EgressHostSpec? spec, out string problem)
    {
        spec = null;
        if (!TargetParameters.TryParseWithHeader(text, out var parameters, out var header, out problem))
        {
            problem = $"{problem} ({Syntax})";
            return false;
        }

        var (pattern, _, audience) = parameters;
        var wildcard = pattern.StartsWith("*.", StringComparison.Ordinal);
        var name = wildcard ? pattern[2..] : pattern;
        if (name.Contains('*', StringComparison.Ordinal))
        {
            problem = $"has pattern '{ErrorText.Shown(pattern)}'; a pattern is a host or '*.' and a suffix ({Syntax})";
            return false;
        }

        if (!HostName.TryCanonical(name, out var host, out var hostProblem))
        {
            problem = $"has {(wildcard ? "suffix" : "host")} '{ErrorText.Shown(name)}', which {hostProblem} ({Syntax})";
            return false;
        }

        if (audience is not null && AudienceRules.Problem(audience) is { } audienceProblem)
        {
            problem = $"has an audience that {audienceProblem}";
            return false;
        }

        spec = new EgressHostSpec(wildcard ? "*." + host : host, audience, header);
        problem = string.Empty;
        return true;
    }
}
