using System.Globalization;

namespace TokenInjector.Configuration;

/// <summary>
/// The merged raw values of one command with typed readers. A reader that meets a bad value records an error naming
/// the option, the value and the expected form, and returns a placeholder so that reading can go on.
/// </summary>
internal sealed class ParsedOptions(
    CommandOptions command,
    IReadOnlyDictionary<string, IReadOnlyList<RawValue>> values,
    List<string> errors,
    bool helpRequested)
{
    public bool HelpRequested { get; } = helpRequested;

    public IReadOnlyList<string> Errors => errors;

    public void AddError(RawValue value, OptionSpec option, string problem) =>
        errors.Add($"{option.Flag}: '{ErrorText.Shown(value.Text)}' {problem}{SourceSuffix(value, option)}");

    public void AddError(OptionSpec option, string problem) => errors.Add($"{option.Flag}: {problem}");

    public IReadOnlyList<RawValue> All(OptionSpec option) =>
        values.TryGetValue(Known(option).Name, out var list) ? list : [];

    public RawValue? Single(OptionSpec option) => All(option) is [var first, ..] ? first : null;

    public string? String(OptionSpec option) => Single(option)?.Text;

    public bool Bool(OptionSpec option)
    {
        var value = Single(option);
        if (value is null)
        {
            return false;
        }

        switch (value.Text.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on":
                return true;
            case "false" or "0" or "no" or "off":
                return false;
            default:
                AddError(value, option, "is not a boolean (true or false)");
                return false;
        }
    }

    public int Int(OptionSpec option, int min, int max)
    {
        var value = Single(option);
        if (value is null)
        {
            return min;
        }

        if (int.TryParse(value.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
        {
            return number;
        }

        AddError(value, option, $"is not a whole number from {min} to {max}");
        return min;
    }

    /// <summary>A duration in <see cref="DurationSyntax"/>: <c>250ms</c>, <c>30s</c>, <c>10m</c>, <c>1h</c>.</summary>
    public TimeSpan Duration(OptionSpec option, TimeSpan min, TimeSpan max)
    {
        var value = Single(option);
        if (value is null)
        {
            return min;
        }

        if (DurationSyntax.TryParse(value.Text, out var duration) && duration >= min && duration <= max)
        {
            return duration;
        }

        AddError(value, option, "is not " + DurationSyntax.Expected(min, max));
        return min;
    }

    public T Choice<T>(OptionSpec option, IReadOnlyDictionary<string, T> choices)
    {
        var value = Single(option);
        if (value is not null && choices.TryGetValue(value.Text.Trim().ToLowerInvariant(), out var choice))
        {
            return choice;
        }

        if (value is not null)
        {
            AddError(value, option, $"is not one of: {string.Join(", ", choices.Keys)}");
        }

        return choices.Values.First();
    }

    private static string SourceSuffix(RawValue value, OptionSpec option) =>
        value.Source == option.Flag ? string.Empty : $" (from {ErrorText.Shown(value.Source)})";

    private OptionSpec Known(OptionSpec option) =>
        command.Find(option.Name) == option ? option : throw new InvalidOperationException($"option '{option.Flag}' is not declared by '{command.Command}'");
}
