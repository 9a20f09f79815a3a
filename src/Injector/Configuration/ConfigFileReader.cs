using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TokenInjector.Configuration;

/// <summary>
/// Reads a <c>--config</c> file. JSON is valid YAML, so one YAML parser reads both. Keys are the option names
/// without dashes in front (<c>audience</c>, <c>upstream-ca-file</c>); repeatable options take a list.
/// </summary>
internal static class ConfigFileReader
{
    public static Dictionary<string, List<RawValue>> Read(string path, CommandOptions options, List<string> errors)
    {
        var values = new Dictionary<string, List<RawValue>>(StringComparer.Ordinal);
        if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add($"--config: '{ErrorText.Shown(path)}' is not a file path");
            return values;
        }

        YamlStream stream;
        try
        {
            using var reader = File.OpenText(path);
            stream = [];
            stream.Load(reader);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add($"--config: cannot read '{ErrorText.Shown(path)}': {ErrorText.Shown(ex.Message)}");
            return values;
        }
        catch (YamlException ex)
        {
            errors.Add($"--config: '{ErrorText.Shown(path)}' is not valid YAML or JSON (line {ex.Start.Line}): {ErrorText.Shown(ex.Message)}");
            return values;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner and node loader throw these, not YamlException, on some malformed input.
            errors.Add($"--config: '{ErrorText.Shown(path)}' is not valid YAML or JSON: {ErrorText.Shown(ex.Message)}");
            return values;
        }

        if (stream.Documents.Count == 0)
        {
            return values;
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            errors.Add($"--config: '{ErrorText.Shown(path)}' must hold a mapping of option names to values");
            return values;
        }

        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            var option = options.Find(key);
            var source = $"{path}: {key}";
            if (option is null || option == CommonOptions.Config)
            {
                errors.Add($"--config: '{ErrorText.Shown(path)}' has unknown key '{ErrorText.Shown(key)}' (keys are the option names, e.g. 'audience')");
                continue;
            }

            var list = CommandOptions.GetList(values, option.Name);
            switch (valueNode)
            {
                case YamlScalarNode scalar:
                    list.Add(new RawValue(scalar.Value ?? string.Empty, source));
                    break;
                case YamlSequenceNode sequence when option.Repeatable:
                    foreach (var item in sequence.Children)
                    {
                        if (item is YamlScalarNode itemScalar)
                        {
                            list.Add(new RawValue(itemScalar.Value ?? string.Empty, source));
                        }
                        else
                        {
                            errors.Add($"--config: '{ErrorText.Shown(key)}' must be a list of plain values");
                        }
                    }

                    break;
                default:
                    errors.Add(option.Repeatable
                        ? $"--config: '{ErrorText.Shown(key)}' must be a value or a list of values"
                        : $"--config: '{ErrorText.Shown(key)}' must be a single value");
                    break;
            }
        }

        return values;
    }
}
