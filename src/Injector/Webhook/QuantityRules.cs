using System.Text.RegularExpressions;
using k8s.Models;

namespace TokenInjector.Webhook;

/// <summary>
/// Kubernetes resource quantities (<c>10m</c>, <c>64Mi</c>, <c>0.5</c>) as the API server accepts them for requests
/// and limits: checked here so that a bad value is denied with a clear message rather than failing pod creation later.
/// </summary>
internal static partial class QuantityRules
{
    public const string Expected = "a non-negative Kubernetes quantity such as 10m, 0.5, 64Mi or 1G";

    public static bool TryParse(string? text, out ResourceQuantity? quantity)
    {
        quantity = null;
        if (string.IsNullOrEmpty(text) || !QuantityPattern().IsMatch(text))
        {
            return false;
        }

        try
        {
            var parsed = new ResourceQuantity(text);

            // Requests are compared with limits as decimals: a value past decimal's range is past any node's too.
            _ = parsed.ToDecimal();
            quantity = parsed;
            return true;
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether a memory (or CPU) request is more than its limit, which the API server refuses: the one check for the
    /// webhook's flags and a pod's annotations. False when either is not a quantity (that is reported on its own).
    /// </summary>
    public static bool RequestExceedsLimit(string? request, string? limit) =>
        TryParse(request, out var requested) && TryParse(limit, out var limited) && requested!.ToDecimal() > limited!.ToDecimal();

    // The API server's grammar without a sign: digits with an optional fraction, then a binary, decimal or exponent suffix.
    [GeneratedRegex(@"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex QuantityPattern();
}
