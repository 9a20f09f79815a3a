namespace TokenInjector.Configuration;

/// <summary>Every configuration error found at start, reported together (one line each, exit code 2).</summary>
internal sealed class ConfigurationErrorException(IReadOnlyList<string> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
