using System.Globalization;
using System.Text;

namespace TokenInjector.Configuration;

/// <summary>
/// A value as an error message shows it. Errors are one line each and echo what the user wrote, so a value with a line
/// break or a terminal escape would split or garble the report: control characters are written as escapes, and a very
/// long value is cut (its length is said instead).
/// </summary>
internal static class ErrorText
{
    private const int MaxShown = 200;

    public static string Shown(string value)
    {
        var text = new StringBuilder(Math.Min(value.Length, MaxShown) + 16);
        foreach (var c in value.Length > MaxShown ? value.AsSpan(0, MaxShown) : value.AsSpan())
        {
            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029')
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                text.Append(c);
            }
        }

        return value.Length > MaxShown
            ? text.Append(CultureInfo.InvariantCulture, $"... ({value.Length} characters)").ToString()
            : text.ToString();
    }
}
