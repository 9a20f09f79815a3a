using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using TokenInjector.DevStack.Network;

namespace TokenInjector.Demo.Observing;

/// <summary>What the live view reads from the sidecar at one moment.</summary>
internal sealed record SidecarReading(double? TokenExpiry, double SuccessfulFetches, double FailedFetches, double ProxyRequests);

/// <summary>
/// Reads the running sidecar from outside, as an operator or an app would: <c>/metrics</c> on the
/// admin listener, and a token from the Unix-socket token API (of which only the claims are kept).
/// </summary>
internal sealed class SidecarProbe : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpClient _admin;
    private readonly HttpClient _socket;
    private readonly HttpClient _metadata;
    private readonly string _audience;

    public SidecarProbe(IPEndPoint adminEndpoint, string socketPath, Uri metadataBase, string audience)
    {
        _audience = audience;
        _admin = new HttpClient { BaseAddress = new Uri($"http://{adminEndpoint}/"), Timeout = RequestTimeout };
        _metadata = new HttpClient { BaseAddress = metadataBase, Timeout = RequestTimeout };
        _socket = LoopbackHttp.UnixSocketClient(socketPath, RequestTimeout);
    }

    /// <summary>The token metrics of the route's audience; null when the admin listener does not answer.</summary>
    public async Task<SidecarReading?> ReadMetricsAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await _admin.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        var samples = PrometheusText.Parse(text);
        var audience = ("audience", _audience);
        return new SidecarReading(
            PrometheusText.Find(samples, "token_injector_token_expiry_timestamp_seconds", audience),
            PrometheusText.Sum(samples, "token_injector_token_refresh_total", audience, ("result", "success")),
            PrometheusText.Sum(samples, "token_injector_token_refresh_total", audience, ("result", "error")),
            PrometheusText.Sum(samples, "token_injector_proxy_requests_total"));
    }

    /// <summary>A token from the socket API, reduced to its claims at once; null when none can be had.</summary>
    public async Task<TokenClaims?> ReadSocketTokenAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/token?audience=" + Uri.EscapeDataString(_audience));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await _socket.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            return json.RootElement.TryGetProperty("token", out var token) && token.GetString() is { } jwt ? TokenClaims.FromJwt(jwt) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or SocketException
            && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>How many ID tokens the metadata emulator has issued in all (its <c>/emulator/stats</c>).</summary>
    public async Task<long?> ReadMetadataIdentityRequestsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var body = await _metadata.GetStreamAsync(new Uri("emulator/stats", UriKind.Relative), cancellationToken);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            return json.RootElement.TryGetProperty("totalIdentityRequests", out var total) && total.TryGetInt64(out var count) ? count : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _admin.Dispose();
        _socket.Dispose();
        _metadata.Dispose();
    }
}
