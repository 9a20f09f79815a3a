using System.Globalization;

namespace TokenInjector.Demo.Observing;

/// <summary>The rows of the demo's once-a-second table, formatted from what the client and the sidecar report.</summary>
internal static class LiveView
{
    private const int MaxErrorLength = 140;

    public const string Header = "  time | calls ok / failed | stream msgs | token expires (metrics) | refreshes | identity the service saw";

    public static string Row(TimeSpan elapsed, ClientStatus? client, SidecarReading? sidecar, DateTimeOffset now)
    {
        var calls = client is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{client.Ok} / {client.Failed + client.StreamsFailed}");
        var messages = client is null ? "-" : client.StreamMessages.ToString(CultureInfo.InvariantCulture);
        var expiry = "-";
        if (sidecar?.TokenExpiry is { } seconds and > 0)
        {
            var at = DateTimeOffset.FromUnixTimeSeconds((long)seconds);
            expiry = string.Create(CultureInfo.InvariantCulture, $"{TokenClaims.Clock(at)} (in {Math.Max(0, (at - now).TotalSeconds):0} s)");
        }

        var refreshes = sidecar is null ? "-" : Refreshes(sidecar.SuccessfulFetches).ToString(CultureInfo.InvariantCulture);
        var row = string.Create(CultureInfo.InvariantCulture,
            $"{elapsed.TotalSeconds,5:0}s | {calls,17} | {messages,11} | {expiry,23} | {refreshes,9} | {client?.Caller ?? "-"}");
        return client?.RecentError is { } error ? row + "  last error: " + Shorten(error) : row;
    }

    // Errors from a failing connection can run to several hundred characters; the gist is at the start.
    private static string Shorten(string error) => error.Length <= MaxErrorLength ? error : error[..MaxErrorLength] + "...";

    /// <summary>Fetches after the first one at start-up are refreshes.</summary>
    public static long Refreshes(double successfulFetches) => Math.Max(0, (long)successfulFetches - 1);
}
