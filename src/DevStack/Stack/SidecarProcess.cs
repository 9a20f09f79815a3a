using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using TokenInjector.DevStack.Network;
using TokenInjector.DevStack.Processes;

namespace TokenInjector.DevStack.Stack;

/// <summary>
/// <c>injector sidecar</c> as a real process (the JIT build or the published NativeAOT one), the one way the demo,
/// the smoke test and the tests start it: <see cref="StartAsync"/> for a sidecar that serves, once ready;
/// <see cref="Launch"/> for one whose log lines or exit the caller awaits. What it runs is a <see cref="SidecarLaunch"/>.
/// Its admin listener is found in its log, so its log level must leave information messages on.
/// </summary>
internal sealed partial class SidecarProcess : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private SidecarProcess(ChildProcess process, string socketPath, IPEndPoint admin, TimeSpan requestTimeout)
    {
        Process = process;
        SocketPath = socketPath;
        Admin = admin;
        Socket = LoopbackHttp.UnixSocketClient(socketPath, requestTimeout);
        AdminClient = new HttpClient { BaseAddress = new Uri($"http://{admin}/"), Timeout = requestTimeout };
    }

    public ChildProcess Process { get; }

    public string SocketPath { get; }

    /// <summary>Where <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> are served.</summary>
    public IPEndPoint Admin { get; }

    /// <summary>A client of the token API socket.</summary>
    public HttpClient Socket { get; }

    /// <summary>A client of the admin listener.</summary>
    public HttpClient AdminClient { get; }

    /// <summary>
    /// Starts the sidecar and returns at once: the caller waits for what it needs (a log line, or the exit of a run
    /// that must stop at its configuration).
    /// </summary>
    public static ChildProcess Launch(SidecarLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var variables = new Dictionary<string, string>(launch.Environment ?? new Dictionary<string, string>());
        if (launch.MetadataHost is { } metadataHost)
        {
            variables["GCE_METADATA_HOST"] = metadataHost;
        }

        string[] listeners = launch.SocketPath is { } socketPath ? ["--socket", socketPath, "--admin-address", "127.0.0.1:0"] : [];
        string[] arguments = ["sidecar", .. listeners, .. launch.Args];
        return launch.Emulator is { } emulator
            ? ChildProcess.Start(emulator, [launch.Injector, .. arguments], variables, "injector sidecar")
            : ChildProcess.Start(launch.Injector, arguments, variables, "injector sidecar");
    }

    /// <summary>
    /// <see cref="Launch"/>, then waits until <c>/readyz</c> answers 200: the token API listens and every configured
    /// audience has its token. Fails with a <see cref="ChildProcessException"/> (the sidecar exited) or a
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/> (which also bounds each request of its clients),
    /// after which the process is gone. The launch must name a <see cref="SidecarLaunch.SocketPath"/>, which brings
    /// the admin listener.
    /// </summary>
    public static async Task<SidecarProcess> StartAsync(SidecarLaunch launch, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var socketPath = launch.SocketPath ?? throw new ArgumentException("a sidecar awaited until ready needs a socket path", nameof(launch));
        var process = Launch(launch);
        var clock = Stopwatch.StartNew();
        try
        {
            var sidecar = new SidecarProcess(process, socketPath, await WaitForAdminEndpointAsync(process, timeout, cancellationToken), timeout);
            while (!await sidecar.IsReadyAsync(cancellationToken))
            {
                if (process.HasExited)
                {
                    throw new ChildProcessException($"{process.Name} exited with code {process.ExitCode} before it was ready", process);
                }

                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"{process.Name}: /readyz did not answer 200 within {timeout.TotalSeconds:0} s");
                }

                await Task.Delay(PollInterval, cancellationToken);
            }

            return sidecar;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>True once <c>/readyz</c> answers 200; false while it answers otherwise or not at all.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await AdminClient.GetAsync(new Uri("readyz", UriKind.Relative), cancellationToken);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>A token request over the socket, as an app makes it.</summary>
    public Task<HttpResponseMessage> GetTokenAsync(string audience) =>
        Socket.GetAsync(new Uri("v1/token?audience=" + Uri.EscapeDataString(audience), UriKind.Relative));

    public void Dispose()
    {
        Socket.Dispose();
        AdminClient.Dispose();
        Process.Dispose();
    }

    /// <summary>The line the sidecar logs with its admin endpoint (group <c>endpoint</c>), plain text or JSON.</summary>
    /// <summary>Where a <see cref="Launch"/>ed sidecar's admin listener is, once it logs it (plain text or JSON, as <c>--log-format</c> says).</summary>
    public static async Task<IPEndPoint> WaitForAdminEndpointAsync(ChildProcess process, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(process);
        var line = await process.WaitForLineAsync(line => AdminEndpoint().IsMatch(line), timeout, cancellationToken);
        return IPEndPoint.Parse(AdminEndpoint().Match(line).Groups["endpoint"].Value);
    }

    [GeneratedRegex(@"Admin listener \(/metrics /healthz /readyz\) on (?<endpoint>[0-9.]+:[0-9]+)")]
    private static partial Regex AdminEndpoint();
}
