using System.Globalization;

namespace TokenInjector.Configuration;

/// <summary>
/// How every executable of the repository writes a duration: a number with a unit, <c>250ms</c>, <c>30s</c>,
/// <c>10m</c>, <c>1.5h</c>. Defined once here and compiled into <c>src/DevCommandLine</c> as well (a linked file: the
/// dev tools do not reference the product), so <c>injector</c>, the emulators, the sample and the demo read one syntax.
/// Depends on nothing but the base library, so that it can be compiled anywhere.
/// </summary>
internal static class DurationSyntax
{
    /// <summary>What a bad value is told it should have been, between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static string Expected(TimeSpan min, TimeSpan max) => $"a duration from {Format(min)} to {Format(max)} (write e.g. 500ms, 30s, 10m)";

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        text = text.Trim();
        var unitStart = text.Length;
        while (unitStart > 0 && char.IsAsciiLetter(text[unitStart - 1]))
        {
            unitStart--;
        }

        // Past about ten thousand years a TimeSpan overflows; no option takes anything near that.
        if (!double.TryParse(text[..unitStart], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            || !double.IsFinite(number) || number > 1e9)
        {
            return false;
        }

        TimeSpan? parsed = text[unitStart..] switch
        {
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" => TimeSpan.FromSeconds(number),
            "m" => TimeSpan.FromMinutes(number),
            "h" => TimeSpan.FromHours(number),
            _ => null,
        };
        duration = parsed ?? TimeSpan.Zero;
        return parsed is not null;
    }

    /// <summary>A duration as this syntax writes it: whole or fractional seconds, milliseconds below one second.</summary>
    public static string Format(TimeSpan duration) => duration.TotalSeconds >= 1
        ? duration.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s"
        : duration.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
}
