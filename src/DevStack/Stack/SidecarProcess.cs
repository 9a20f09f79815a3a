using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using TokenInjector.DevStack.Network;
using TokenInjector.DevStack.Processes;

namespace TokenInjector.DevStack.Stack;

/// <summary>
/// <c>injector sidecar</c> as a real process (the JIT build or the published NativeAOT one): its token socket where
/// the caller says, its admin listener on a free loopback port (which it logs, so its log level must leave
/// information messages on), tokens from the metadata emulator named by GCE_METADATA_HOST.
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

    /// <summary>Starts the sidecar, and returns at once: the caller waits for what it needs (a log line, an exit).</summary>
    /// <param name="injector">The <c>injector</c> program: <c>injector.dll</c> or a published executable.</param>
    /// <param name="socketPath">Where the token API socket goes.</param>
    /// <param name="metadataHostAndPort">The metadata emulator, as GCE_METADATA_HOST.</param>
    /// <param name="args">More sidecar options.</param>
    /// <param name="environment">More environment variables.</param>
    /// <param name="emulator">
    /// The user-mode emulator that runs <paramref name="injector"/> when it is built for another machine
    /// (<c>qemu-aarch64</c> for a linux-arm64 build on x64); none when null.
    /// </param>
    public static ChildProcess Launch(
        string injector,
        string socketPath,
        string metadataHostAndPort,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null,
        string? emulator = null)
    {
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["GCE_METADATA_HOST"] = metadataHostAndPort };
        string[] arguments = ["sidecar", "--socket", socketPath, "--admin-address", "127.0.0.1:0", .. args];
        return emulator is null
            ? ChildProcess.Start(injector, arguments, variables, "injector sidecar")
            : ChildProcess.Start(emulator, [injector, .. arguments], variables, "injector sidecar");
    }

    /// <summary>
    /// <see cref="Launch"/>, then waits until <c>/readyz</c> answers 200: the token API listens and every configured
    /// audience has its token. Fails with a <see cref="ChildProcessException"/> (the sidecar exited) or a
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/> (which also bounds each request of its clients),
    /// after which the process is gone.
    /// </summary>
    public static async Task<SidecarProcess> StartAsync(
        string injector,
        string socketPath,
        string metadataHostAndPort,
        IEnumerable<string> args,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null,
        string? emulator = null,
        CancellationToken cancellationToken = default)
    {
        var process = Launch(injector, socketPath, metadataHostAndPort, args, environment, emulator);
        var limit = timeout;
        var clock = Stopwatch.StartNew();
        try
        {
            // The line is plain text or a JSON object, depending on --log-format.
            var adminLine = await process.WaitForLineAsync(line => AdminEndpoint().IsMatch(line), limit, cancellationToken);
            var sidecar = new SidecarProcess(process, socketPath, IPEndPoint.Parse(AdminEndpoint().Match(adminLine).Groups["endpoint"].Value), timeout);
            while (!await sidecar.IsReadyAsync(cancellationToken))
            {
                if (process.HasExited)
                {
                    throw new ChildProcessException($"{process.Name} exited with code {process.ExitCode} before it was ready", process);
                }

                if (clock.Elapsed > limit)
                {
                    throw new TimeoutException($"{process.Name}: /readyz did not answer 200 within {limit.TotalSeconds:0} s");
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
    [GeneratedRegex(@"Admin listener \(/metrics /healthz /readyz\) on (?<endpoint>[0-9.]+:[0-9]+)")]
    internal static partial Regex AdminEndpoint();
}
