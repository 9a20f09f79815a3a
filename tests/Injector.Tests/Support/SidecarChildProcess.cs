using System.Net;
using System.Text.RegularExpressions;
using TokenInjector.Serving;

namespace TokenInjector.Tests.Support;

/// <summary>
/// <c>injector sidecar</c> as a real process (the built injector.dll), its socket in a temp directory and its admin
/// listener on a free loopback port, tokens from the metadata emulator named by GCE_METADATA_HOST. Started once its
/// listeners are up and, when it has audiences, once the first token arrived.
/// </summary>
internal sealed partial class SidecarChildProcess : IDisposable
{
    private const string AdminLine = "Admin listener (/metrics /healthz /readyz) on ";

    private SidecarChildProcess(ChildProcess process, string socketPath, IPEndPoint admin)
    {
        Process = process;
        SocketPath = socketPath;
        Admin = admin;
        Socket = UnixSocketHttpClient.Create(socketPath, TestWait.Limit);
    }

    public ChildProcess Process { get; }

    public string SocketPath { get; }

    public IPEndPoint Admin { get; }

    /// <summary>A client of the token API socket.</summary>
    public HttpClient Socket { get; }

    /// <param name="directory">Where the socket goes.</param>
    /// <param name="metadataHostAndPort">The metadata emulator, as GCE_METADATA_HOST.</param>
    /// <param name="args">More sidecar options; the log level must leave information messages on.</param>
    /// <param name="environment">More environment variables.</param>
    public static async Task<SidecarChildProcess> StartAsync(
        TempDirectory directory, string metadataHostAndPort, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var socket = directory.File("sidecar.sock");
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["GCE_METADATA_HOST"] = metadataHostAndPort };
        var process = ChildProcess.StartAssembly("injector.dll", ["sidecar", "--socket", socket, "--admin-address", "127.0.0.1:0", .. args], variables);
        try
        {
            var adminLine = await process.WaitForLineAsync(line => line.Contains(AdminLine, StringComparison.Ordinal));
            // The line is plain text or a JSON object, depending on --log-format.
            var admin = IPEndPoint.Parse(AdminEndpoint().Match(adminLine).Groups["endpoint"].Value);
            await process.WaitForLineAsync(line => line.Contains("Token API listening on unix:", StringComparison.Ordinal));
            if (args.Any(arg => arg is "--audience" or "--route" || arg.StartsWith("--audience=", StringComparison.Ordinal) || arg.StartsWith("--route=", StringComparison.Ordinal)))
            {
                await process.WaitForLineAsync(line => line.Contains("New token for", StringComparison.Ordinal));
            }

            return new SidecarChildProcess(process, socket, admin);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    public async Task<HttpResponseMessage> GetTokenAsync(string audience) =>
        await Socket.GetAsync("/v1/token?audience=" + Uri.EscapeDataString(audience)).Bounded();

    public void Dispose()
    {
        Socket.Dispose();
        Process.Dispose();
    }

    [GeneratedRegex(@"Admin listener \(/metrics /healthz /readyz\) on (?<endpoint>[0-9.]+:[0-9]+)")]
    private static partial Regex AdminEndpoint();
}
