using System.Globalization;
using System.Text;

namespace TokenInjector.Demo.Observing;

/// <summary>
/// Reads the few samples the demo shows from the sidecar's <c>/metrics</c> page (Prometheus text format 0.0.4).
/// Comments, blank lines and lines it cannot read are skipped: a live view must not stop on an odd line.
/// </summary>
internal static class PrometheusText
{
    public static IReadOnlyList<MetricSample> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var samples = new List<MetricSample>();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (TryParseLine(line, out var sample))
            {
                samples.Add(sample!);
            }
        }

        return samples;
    }

    /// <summary>The sum of every sample of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    public static double Sum(IEnumerable<MetricSample> samples, string name, params (string Name, string Value)[] labels) =>
        Matching(samples, name, labels).Sum(sample => sample.Value);

    /// <summary>The value of the first matching sample, or null when there is none.</summary>
    public static double? Find(IEnumerable<MetricSample> samples, string name, params (string Name, string Value)[] labels) =>
        Matching(samples, name, labels).Select(sample => (double?)sample.Value).FirstOrDefault();

    private static IEnumerable<MetricSample> Matching(IEnumerable<MetricSample> samples, string name, (string Name, string Value)[] labels) =>
        samples.Where(sample => sample.Name == name
            && labels.All(label => sample.Labels.TryGetValue(label.Name, out var value) && value == label.Value));

    internal static bool TryParseLine(string line, out MetricSample? sample)
    {
        sample = null;
        var nameEnd = 0;
        while (nameEnd < line.Length && line[nameEnd] is not ('{' or ' ' or '\t'))
        {
            nameEnd++;
        }

        if (nameEnd == 0 || nameEnd == line.Length)
        {
            return false;
        }

        var name = line[..nameEnd];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var position = nameEnd;
        if (line[position] == '{' && !TryParseLabels(line, ref position, labels))
        {
            return false;
        }

        // The value, then an optional timestamp.
        var rest = line[position..].Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length == 0 || !TryParseValue(rest[0], out var value))
        {
            return false;
        }

        sample = new MetricSample(name, labels, value);
        return true;
    }

    private static bool TryParseLabels(string line, ref int position, Dictionary<string, string> labels)
    {
        position++; // '{'
        while (true)
        {
            while (position < line.Length && line[position] is ' ' or ',')
            {
                position++;
            }

            if (position >= line.Length)
            {
                return false;
            }

            if (line[position] == '}')
            {
                position++;
                return true;
            }

            var equals = line.IndexOf('=', position);
            if (equals < 0 || equals + 1 >= line.Length || line[equals + 1] != '"')
            {
                return false;
            }

            var labelName = line[position..equals].Trim();
            var value = new StringBuilder();
            position = equals + 2;
            while (true)
            {
                if (position >= line.Length)
                {
                    return false;
                }

                var c = line[position++];
                if (c == '"')
                {
                    break;
                }

                if (c == '\\' && position < line.Length)
                {
                    var escaped = line[position++];
                    value.Append(escaped switch
                    {
                        'n' => '\n',
                        _ => escaped,
                    });
                }
                else
                {
                    value.Append(c);
                }
            }

            labels[labelName] = value.ToString();
        }
    }

    private static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "+Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            case "NaN":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }
}
