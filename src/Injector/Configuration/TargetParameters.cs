namespace TokenInjector.Configuration;

/// <summary>
/// The tail shared by <c>--route</c> and <c>--egress-host</c> (and their annotations): <c>TARGET[;header=MODE][=AUDIENCE]</c>.
/// The target (a URL or a host pattern) can hold neither <c>;</c> nor <c>=</c>, and a parameter's value is a name from
/// a fixed set, so the first <c>=</c> that is not a parameter's own starts the audience, which is then taken verbatim:
/// an audience may hold <c>;</c> and <c>=</c> (<see cref="AudienceRules"/>) without being read as a parameter.
/// </summary>
internal sealed record TargetParameters(string Target, AuthHeaderMode? Header, string? Audience)
{
    public const string Syntax = "[;header=MODE]";

    private const string HeaderParameter = "header";

    public static bool TryParse(string text, out TargetParameters parsed, out string problem)
    {
        parsed = new TargetParameters(text, null, null);
        problem = string.Empty;
        var end = text.AsSpan().IndexOfAny(';', '=');
        if (end < 0)
        {
            return true;
        }

        var target = text[..end];
        AuthHeaderMode? header = null;
        while (end < text.Length && text[end] == ';')
        {
            var nameStart = end + 1;
            var nameEnd = text.AsSpan(nameStart).IndexOfAny(';', '=');
            if (nameEnd < 0 || text[nameStart + nameEnd] != '=')
            {
                problem = $"has parameter ';{ErrorText.Shown(text[nameStart..(nameEnd < 0 ? text.Length : nameStart + nameEnd)])}' without a value; a parameter is ;header=MODE";
                return false;
            }

            var name = text.Substring(nameStart, nameEnd);
            var valueStart = nameStart + nameEnd + 1;
            var valueEnd = text.AsSpan(valueStart).IndexOfAny(';', '=');
            end = valueEnd < 0 ? text.Length : valueStart + valueEnd;
            var value = text[valueStart..end];
            if (name != HeaderParameter)
            {
                problem = $"has unknown parameter ';{ErrorText.Shown(name)}='; the only parameter is ;header=MODE";
                return false;
            }

            if (header is not null)
            {
                problem = "names ;header= twice";
                return false;
            }

            if (!AuthHeaderModes.ByName.TryGetValue(value, out var mode))
            {
                problem = $"has header '{ErrorText.Shown(value)}', which is not one of {AuthHeaderModes.Names}";
                return false;
            }

            header = mode;
        }

        // Past the parameters, the text is at its end or at the '=' that starts the audience.
        parsed = new TargetParameters(target, header, end < text.Length ? text[(end + 1)..] : null);
        return true;
    }

    /// <summary>The <c>;header=MODE</c> text of <paramref name="header"/>, empty for none.</summary>
    public static string Format(AuthHeaderMode? header) =>
        header is { } mode ? $";{HeaderParameter}={AuthHeaderModes.Name(mode)}" : string.Empty;
}
