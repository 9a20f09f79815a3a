using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TokenInjector.Configuration;
using TokenInjector.Hosting;
using TokenInjector.Serving;

namespace TokenInjector.Tests.Support;

/// <summary>
/// An in-process sidecar configured through the real command-line parser, with its socket in a temp directory
/// and its admin listener on a free loopback port.
/// </summary>
internal sealed class RunningSidecar : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TempDirectory _directory;

    private RunningSidecar(IHost host, TempDirectory directory, SidecarSettings settings)
    {
        _host = host;
        _directory = directory;
        Settings = settings;
        Socket = LoopbackHttp.UnixSocketClient(settings.SocketPath, TestWait.Limit);
        var admin = host.Services.GetRequiredService<AdminServer>().BoundEndpoint!;
        AdminClient = new HttpClient { BaseAddress = new Uri($"http://{admin}/"), Timeout = TestWait.Limit };
    }

    public SidecarSettings Settings { get; }

    public HttpClient Socket { get; }

    public HttpClient AdminClient { get; }

    public IServiceProvider Services => _host.Services;

    public string Directory => _directory.Path;

    public static async Task<RunningSidecar> StartAsync(IEnumerable<string> args, SidecarHostOverrides overrides)
    {
        var directory = new TempDirectory();
        var allArgs = new List<string> { "--socket", directory.File("token.sock"), "--admin-address", "127.0.0.1:0" };
        allArgs.AddRange(args);
        var parsed = SidecarSettings.Command.Parse(allArgs, _ => null);
        var settings = SidecarSettings.From(parsed, Environment.GetEnvironmentVariable);
        var host = SidecarHost.Build(settings, overrides);
        await host.StartAsync().Bounded();
        return new RunningSidecar(host, directory, settings);
    }

    public Task<HttpResponseMessage> GetTokenAsync(string audience, bool json = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/token?audience=" + Uri.EscapeDataString(audience));
        if (json)
        {
            request.Headers.Accept.ParseAdd("application/json");
        }

        return Socket.SendAsync(request).Bounded();
    }

    public async Task<HttpStatusCode> ReadinessAsync()
    {
        using var response = await AdminClient.GetAsync("/readyz").Bounded();
        return response.StatusCode;
    }

    public async Task<string> MetricsAsync() => await AdminClient.GetStringAsync("/metrics").Bounded();

    /// <summary>
    /// /metrics once it contains <paramref name="expected"/>, or as it is at the test's wait limit. A proxied call is
    /// counted when its handler returns, which can be just after the caller has read the answer.
    /// </summary>
    public async Task<string> MetricsOnceTheyShowAsync(string expected)
    {
        var metrics = "";
        await TestWait.PollAsync(async () => (metrics = await MetricsAsync()).Contains(expected, StringComparison.Ordinal), TimeSpan.FromMilliseconds(10));
        return metrics;
    }

    public async ValueTask DisposeAsync()
    {
        Socket.Dispose();
        AdminClient.Dispose();
        await _host.StopAsync().Bounded();
        _host.Dispose();
        _directory.Dispose();
    }
}
