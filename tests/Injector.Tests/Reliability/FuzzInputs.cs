using System.Text;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Malformed inputs from a seeded <see cref="Random"/>, so that a failing case reproduces from the seed in the report:
/// structured mutations of valid examples (a character flipped, cut, repeated, or replaced by something hostile)
/// mixed with raw garbage.
/// </summary>
internal sealed class FuzzInputs(int seed)
{
    // Characters that parsers trip on: separators of the syntaxes under test, quotes, escapes, controls, non-ASCII.
    private static readonly string[] Hostile =
    [
        "=", ":", ",", "/", "//", "?", "&", "#", "%", "%zz", "%00", "%2F", "\0", "\r\n", "\n", "\t", " ", "\"", "'", "\\",
        "..", "../", "[", "]", "{", "}", "@", "é", "\u202e", "\ud83d\ude00", "\uffff", "-", "--", "0x", "-1", "99999999999999999999",
        "NaN", "1e309", "null", "true", "https://", "http://", "::", "[::1]", "127.0.0.1", "0.0.0.0",
    ];

    private readonly Random _random = new(seed);

    public int Seed { get; } = seed;

    public int Next(int max) => _random.Next(max);

    public bool Chance(double probability) => _random.NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    /// <summary>A valid example, mutated one to three times, or (one time in five) raw garbage.</summary>
    public string Text(IReadOnlyList<string> validExamples, int maxGarbage = 64) =>
        Chance(0.2) ? Garbage(maxGarbage) : Mutate(Pick(validExamples));

    public string Mutate(string valid)
    {
        var text = new StringBuilder(valid);
        var rounds = 1 + _random.Next(3);
        for (var round = 0; round < rounds; round++)
        {
            var at = text.Length == 0 ? 0 : _random.Next(text.Length + 1);
            switch (_random.Next(7))
            {
                case 0:
                    text.Insert(at, Pick(Hostile));
                    break;
                case 1 when text.Length > 0:
                    text.Remove(Math.Min(at, text.Length - 1), 1 + _random.Next(Math.Max(1, text.Length - at)));
                    break;
                case 2 when text.Length > 0:
                    text[Math.Min(at, text.Length - 1)] = (char)_random.Next(0x20, 0x7F);
                    break;
                case 3:
                    text.Length = at;
                    break;
                case 4:
                    text.Insert(at, new string(Pick(Hostile)[0], 1 + _random.Next(2048)));
                    break;
                case 5:
                    text.Insert(at, valid);
                    break;
                default:
                    text.Insert(at, Garbage(8));
                    break;
            }
        }

        return text.ToString();
    }

    /// <summary>Random UTF-16 text: printable ASCII, controls and arbitrary code units (lone surrogates included).</summary>
    public string Garbage(int maxLength)
    {
        var length = _random.Next(maxLength + 1);
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            text.Append(_random.Next(4) switch
            {
                0 => (char)_random.Next(0, 0x20),
                1 => (char)_random.Next(0x80, 0xFFFF),
                _ => (char)_random.Next(0x20, 0x7F),
            });
        }

        return text.ToString();
    }

    public byte[] GarbageBytes(int maxLength)
    {
        var bytes = new byte[1 + _random.Next(maxLength)];
        _random.NextBytes(bytes);
        return bytes;
    }
}
