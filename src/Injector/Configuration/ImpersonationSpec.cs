using System.Diagnostics.CodeAnalysis;

namespace TokenInjector.Configuration;

/// <summary>
/// Whose ID tokens an audience gets (<c>--impersonate</c>, the <c>token-injector.dev/impersonate</c> annotation):
/// tokens minted by IAM Credentials' <c>generateIdToken</c> for <see cref="ServiceAccount"/>, authorised by the
/// sidecar's own identity through the <see cref="Delegates"/> in order, for <see cref="Audience"/>, or for every
/// audience that no other entry names when it is null. Every way a token is asked for (the socket, token files, routes,
/// egress hosts, the metadata endpoint) goes through its audience, so the entry covers them all.
/// </summary>
internal sealed record ImpersonationSpec(string ServiceAccount, IReadOnlyList<string> Delegates, string? Audience)
{
    public const string Syntax = "SERVICE_ACCOUNT[;delegates=SA+SA][=AUDIENCE]";

    /// <summary>What a service account is written as: the email IAM names it by.</summary>
    public const string ServiceAccountForm = "NAME@PROJECT.iam.gserviceaccount.com";

    private static readonly TargetParameter DelegatesParameter = new("delegates", "SA+SA");

    /// <summary>The entry as <see cref="TryParse"/> reads it (the webhook writes it into the sidecar's arguments).</summary>
    public override string ToString() =>
        ServiceAccount + (Delegates.Count == 0 ? string.Empty : $";{DelegatesParameter.Name}={string.Join('+', Delegates)}")
            + (Audience is null ? string.Empty : "=" + Audience);

    public bool Equals(ImpersonationSpec? other) =>
        other is not null && ServiceAccount == other.ServiceAccount && Delegates.SequenceEqual(other.Delegates) && Audience == other.Audience;

    public override int GetHashCode() => HashCode.Combine(ServiceAccount, Delegates.Count, Audience);

    public static bool TryParse(string text, [NotNullWhen(true)] out ImpersonationSpec? spec, out string problem)
    {
        spec = null;
        if (!TargetParameters.TryParse(text, DelegatesParameter, out var parameters, out problem))
        {
            problem = $"{problem} ({Syntax})";
            return false;
        }

        var (serviceAccount, delegateList, audience) = parameters;
        if (serviceAccount.Length == 0)
        {
            problem = delegateList is null
                ? $"names no service account to act as ({Syntax})"
                : $"names delegates but no service account to act as ({Syntax})";
            return false;
        }

        if (ServiceAccountProblem(serviceAccount) is { } accountProblem)
        {
            problem = $"has service account '{ErrorText.Shown(serviceAccount)}', which {accountProblem} ({Syntax})";
            return false;
        }

        var delegates = delegateList is null ? [] : delegateList.Split('+');
        foreach (var @delegate in delegates)
        {
            if (ServiceAccountProblem(@delegate) is { } delegateProblem)
            {
                problem = $"has delegate '{ErrorText.Shown(@delegate)}', which {delegateProblem} ({Syntax})";
                return false;
            }
        }

        if (delegates.Distinct(StringComparer.Ordinal).Count() != delegates.Length || delegates.Contains(serviceAccount, StringComparer.Ordinal))
        {
            problem = "names a service account twice in its chain; each delegate acts once, before the account acted as";
            return false;
        }

        if (audience is not null && AudienceRules.Problem(audience) is { } audienceProblem)
        {
            problem = $"has an audience that {audienceProblem}";
            return false;
        }

        spec = new ImpersonationSpec(serviceAccount, delegates, audience);
        return true;
    }

    /// <summary>
    /// Null when <paramref name="spec"/> may join <paramref name="earlier"/>: one entry per audience, and at most one
    /// without an audience (for every audience no entry names); else why not.
    /// </summary>
    public static string? Conflict(IEnumerable<ImpersonationSpec> earlier, ImpersonationSpec spec) =>
        !earlier.Any(e => e.Audience == spec.Audience) ? null
        : spec.Audience is null ? "is a second entry without an audience; one account acts for every audience no entry names"
        : "names its audience again; each audience is fetched as one service account";

    /// <summary>
    /// Null when <paramref name="email"/> is a service account's email as IAM writes it: a name of lower-case letters,
    /// digits and hyphens, and a domain under <c>gserviceaccount.com</c> (<c>PROJECT.iam.</c> for the accounts a project
    /// makes, <c>developer.</c> and <c>appspot.</c> for its default ones); else what is wrong.
    /// </summary>
    public static string? ServiceAccountProblem(string email)
    {
        const string Domain = ".gserviceaccount.com";
        var at = email.IndexOf('@', StringComparison.Ordinal);
        var name = at < 0 ? string.Empty : email[..at];
        var domain = at < 0 ? string.Empty : email[(at + 1)..];
        var valid = name.Length is >= 1 and <= 64 && name.All(IsNameCharacter)
            && domain.EndsWith(Domain, StringComparison.Ordinal) && domain.Length > Domain.Length
            && domain.All(c => IsNameCharacter(c) || c == '.') && !domain.Contains("..", StringComparison.Ordinal) && domain[0] != '.';
        return valid ? null : $"is not a service account's email ({ServiceAccountForm})";
    }

    private static bool IsNameCharacter(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-';
}
