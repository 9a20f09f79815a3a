using System.Globalization;
using System.Text.RegularExpressions;

namespace TokenInjector.Demo.Observing;

/// <summary>
/// Reads the lines <c>sample-workload client</c> prints: a status line a second
/// (<c>[  12s] ok=58 failed=0 | streams ok=1 failed=0 msgs=22 | caller=EMAIL | token exp=...</c>) and the final
/// <c>summary: ok=N failed=N streams_ok=N identities=a,b</c>, in which failed counts unary and streaming calls.
/// </summary>
internal static partial class ClientOutput
{
    public static bool TryParseStatus(string line, out ClientStatus? status)
    {
        ArgumentNullException.ThrowIfNull(line);
        status = null;
        var match = StatusLine().Match(line);
        if (!match.Success)
        {
            return false;
        }

        var caller = match.Groups["caller"].Value;
        var error = match.Groups["error"].Success ? match.Groups["error"].Value.Trim() : null;
        status = new ClientStatus(
            Number(match, "ok"), Number(match, "failed"), Number(match, "streamsOk"), Number(match, "streamsFailed"), Number(match, "msgs"),
            caller is "" or "-" ? null : caller,
            string.IsNullOrEmpty(error) ? null : error);
        return true;
    }

    public static bool TryParseSummary(string line, out ClientSummary? summary)
    {
        ArgumentNullException.ThrowIfNull(line);
        summary = null;
        var match = SummaryLine().Match(line);
        if (!match.Success)
        {
            return false;
        }

        var identities = match.Groups["identities"].Value;
        summary = new ClientSummary(
            Number(match, "ok"), Number(match, "failed"), Number(match, "streamsOk"),
            identities == "-" ? [] : identities.Split(',', StringSplitOptions.RemoveEmptyEntries));
        return true;
    }

    private static long Number(Match match, string group) => long.Parse(match.Groups[group].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\[\s*\d+s\] ok=(?<ok>\d+) failed=(?<failed>\d+) \| streams ok=(?<streamsOk>\d+) failed=(?<streamsFailed>\d+) msgs=(?<msgs>\d+) \| caller=(?<caller>\S*)(?:.*?\| \d+ error\(s\), last: (?<error>.*))?", RegexOptions.CultureInvariant)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"^summary: ok=(?<ok>\d+) failed=(?<failed>\d+) streams_ok=(?<streamsOk>\d+) identities=(?<identities>\S+)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex SummaryLine();
}
