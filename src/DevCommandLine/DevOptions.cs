using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using TokenInjector.Configuration;

namespace TokenInjector.DevCommandLine;

/// <summary>
/// Options whose values are checked as they are parsed, so that a bad value is one line naming the option, the
/// value and what was expected (<c>--rate: 'fast' is not a number from 0.1 to 200</c>), reported with every other error.
/// </summary>
public static class DevOptions
{
    private delegate bool TryParse<T>(string text, out T value);

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<int> WholeNumber(string name, string description, int min, int max = int.MaxValue, int? defaultValue = null, string helpName = "N")
    {
        var expected = max == int.MaxValue ? $"a whole number of {Invariant(min)} or more" : $"a whole number from {Invariant(min)} to {Invariant(max)}";
        var option = new Option<int>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result => Parse(result, name, expected, (string text, out int value) =>
                int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max),
        };
        if (defaultValue is { } fallback)
        {
            option.DefaultValueFactory = _ => fallback;
        }

        return option;
    }

    /// <summary>A number (fractions allowed) from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<double> Number(string name, string description, double min, double max, double? defaultValue = null, string helpName = "N")
    {
        var option = new Option<double>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result => Parse(result, name, $"a number from {Invariant(min)} to {Invariant(max)}", (string text, out double value) =>
                double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value) && value >= min && value <= max),
        };
        if (defaultValue is { } fallback)
        {
            option.DefaultValueFactory = _ => fallback;
        }

        return option;
    }

    /// <summary>
    /// A duration from <paramref name="min"/> to <paramref name="max"/>, written as <c>injector</c> writes one
    /// (<c>500ms</c>, <c>30s</c>, <c>10m</c>, <c>1h</c>: the same parser, <c>DurationSyntax</c>).
    /// </summary>
    public static Option<TimeSpan> Duration(string name, string description, TimeSpan min, TimeSpan max, TimeSpan? defaultValue = null)
    {
        var option = new Option<TimeSpan>(name)
        {
            Description = description,
            HelpName = "DURATION",
            CustomParser = result => Parse(result, name, DurationSyntax.Expected(min, max), (string text, out TimeSpan value) =>
                DurationSyntax.TryParse(text, out value) && value >= min && value <= max),
        };
        if (defaultValue is { } fallback)
        {
            option.DefaultValueFactory = _ => fallback;
        }

        return option;
    }

    /// <summary>A duration as <see cref="Duration"/> reads it, to pass to another dev executable.</summary>
    public static string Format(TimeSpan duration) => DurationSyntax.Format(duration);

    /// <summary>An absolute URL with one of <paramref name="schemes"/>.</summary>
    public static Option<Uri> Url(string name, string description, params string[] schemes) => new(name)
    {
        Description = description,
        HelpName = "URL",
        CustomParser = result => Parse(result, name, $"an {string.Join(" or ", schemes.Select(scheme => scheme + "://"))} URL", (string text, out Uri value) =>
            Uri.TryCreate(text, UriKind.Absolute, out value!) && schemes.Contains(value.Scheme, StringComparer.Ordinal)),
    };

    /// <summary>One of a few <paramref name="words"/>.</summary>
    public static Option<string> OneOf(string name, string description, string defaultValue, params string[] words) => new(name)
    {
        Description = description,
        HelpName = string.Join('|', words),
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, name, "one of: " + string.Join(", ", words), (string text, out string value) =>
        {
            value = text;
            return words.Contains(text, StringComparer.Ordinal);
        }),
    };

    private static T Parse<T>(ArgumentResult result, string name, string expected, TryParse<T> tryParse)
    {
        if (result.Tokens is [var token] && tryParse(token.Value, out var value))
        {
            return value;
        }

        result.AddError($"{name}: '{string.Join(' ', result.Tokens.Select(token => token.Value))}' is not {expected}");
        return default!;
    }

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
