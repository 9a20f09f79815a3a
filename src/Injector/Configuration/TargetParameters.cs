namespace TokenInjector.Configuration;

/// <summary>The one <c>;NAME=VALUE</c> parameter a kind of target takes (<c>;header=MODE</c>, <c>;delegates=SA+SA</c>).</summary>
internal sealed record TargetParameter(string Name, string ValueName)
{
    public string Syntax => $";{Name}={ValueName}";
}

/// <summary>
/// The tail shared by <c>--route</c>, <c>--egress-host</c> and <c>--impersonate</c> (and their annotations):
/// <c>TARGET[;NAME=VALUE][=AUDIENCE]</c>, where each kind of target takes one parameter. The target (a URL, a host
/// pattern, a service account) can hold neither <c>;</c> nor <c>=</c>, and a parameter's value holds neither, so the
/// first <c>=</c> that is not a parameter's own starts the audience, which is then taken verbatim: an audience may hold
/// <c>;</c> and <c>=</c> (<see cref="AudienceRules"/>) without being read as a parameter.
/// </summary>
internal sealed record TargetParameters(string Target, string? Value, string? Audience)
{
    /// <summary>The header a route's or an egress host's token goes in.</summary>
    public static readonly TargetParameter Header = new("header", "MODE");

    /// <summary>How the syntax of a route or an egress host writes <see cref="Header"/>.</summary>
    public const string HeaderSyntax = "[;header=MODE]";

    public static bool TryParse(string text, TargetParameter parameter, out TargetParameters parsed, out string problem)
    {
        parsed = new TargetParameters(text, null, null);
        problem = string.Empty;
        var end = text.AsSpan().IndexOfAny(';', '=');
        if (end < 0)
        {
            return true;
        }

        var target = text[..end];
        string? value = null;
        while (end < text.Length && text[end] == ';')
        {
            var nameStart = end + 1;
            var nameEnd = text.AsSpan(nameStart).IndexOfAny(';', '=');
            if (nameEnd < 0 || text[nameStart + nameEnd] != '=')
            {
                problem = $"has parameter ';{ErrorText.Shown(text[nameStart..(nameEnd < 0 ? text.Length : nameStart + nameEnd)])}' without a value; a parameter is {parameter.Syntax}";
                return false;
            }

            var name = text.Substring(nameStart, nameEnd);
            var valueStart = nameStart + nameEnd + 1;
            var valueEnd = text.AsSpan(valueStart).IndexOfAny(';', '=');
            end = valueEnd < 0 ? text.Length : valueStart + valueEnd;
            if (name != parameter.Name)
            {
                problem = $"has unknown parameter ';{ErrorText.Shown(name)}='; the only parameter is {parameter.Syntax}";
                return false;
            }

            if (value is not null)
            {
                problem = $"names ;{parameter.Name}= twice";
                return false;
            }

            value = text[valueStart..end];
        }

        // Past the parameters, the text is at its end or at the '=' that starts the audience.
        parsed = new TargetParameters(target, value, end < text.Length ? text[(end + 1)..] : null);
        return true;
    }

    /// <summary><see cref="TryParse"/> for a route or an egress host: the <c>;header=MODE</c> value read as a mode.</summary>
    public static bool TryParseWithHeader(string text, out TargetParameters parsed, out AuthHeaderMode? header, out string problem)
    {
        header = null;
        if (!TryParse(text, Header, out parsed, out problem))
        {
            return false;
        }

        if (parsed.Value is not { } name)
        {
            return true;
        }

        if (!AuthHeaderModes.ByName.TryGetValue(name, out var mode))
        {
            problem = $"has header '{ErrorText.Shown(name)}', which is not one of {AuthHeaderModes.Names}";
            return false;
        }

        header = mode;
        return true;
    }

    /// <summary>The <c>;header=MODE</c> text of <paramref name="header"/>, empty for none.</summary>
    public static string Format(AuthHeaderMode? header) =>
        header is { } mode ? $";{Header.Name}={AuthHeaderModes.Name(mode)}" : string.Empty;
}
