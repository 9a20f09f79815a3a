namespace TokenInjector.Tests.MetadataApi;

/// <summary>A plain HTTP client of a metadata endpoint (the sidecar's or the emulator's) that shows redirects rather than following them.</summary>
internal static class MetadataEndpointClient
{
    public const string Identity = "/computeMetadata/v1/instance/service-accounts/default/identity";

    public static HttpClient For(string hostAndPort) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, AutomaticDecompression = System.Net.DecompressionMethods.None })
        {
            BaseAddress = new Uri($"http://{hostAndPort}/"),
            Timeout = Support.TestWait.Limit,
        };

    public static async Task<HttpResponseMessage> GetAsync(this HttpClient client, string pathAndQuery, bool flavor, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (flavor)
        {
            request.Headers.Add("Metadata-Flavor", "Google");
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Support.TestWait.Limit);
    }

    public static string IdentityPath(string audience, string extra = "&format=full") => $"{Identity}?audience={Uri.EscapeDataString(audience)}{extra}";
}
