using System.Globalization;
using System.Text.RegularExpressions;
using TokenInjector.DevStack.Processes;

namespace TokenInjector.DevStack.Stack;

/// <summary><c>emulators metadata</c> as a child process, on a port of its choosing, once it listens.</summary>
internal sealed partial record MetadataEmulatorProcess(ChildProcess Process, string HostAndPort, Uri JwksUri)
{
    public Uri Address => new($"http://{HostAndPort}/");

    /// <param name="emulators">The <c>emulators</c> program (emulators.dll or a published executable).</param>
    /// <param name="tokenLifetime">Lifetime of its ID tokens, in whole seconds.</param>
    /// <param name="serviceAccount">The service account's email; the emulator's own default when null.</param>
    /// <param name="timeout">How long it may take to listen.</param>
    /// <param name="cancellationToken">Gives up waiting.</param>
    public static async Task<MetadataEmulatorProcess> StartAsync(
        string emulators, TimeSpan tokenLifetime, string? serviceAccount, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var process = ChildProcess.Start(
            emulators,
            [
                "metadata", "--listen", "127.0.0.1:0", "--token-lifetime", tokenLifetime.TotalSeconds.ToString(CultureInfo.InvariantCulture),
                .. serviceAccount is null ? Array.Empty<string>() : ["--email", serviceAccount],
            ],
            name: "metadata emulator");
        try
        {
            // "metadata emulator listening on http://127.0.0.1:P (jwks http://127.0.0.1:P/oauth2/v3/certs)"
            var banner = Banner().Match(await process.WaitForLineAsync(Banner().IsMatch, timeout, cancellationToken));
            return new MetadataEmulatorProcess(process, banner.Groups["hostAndPort"].Value, new Uri(banner.Groups["jwks"].Value));
        }
        catch (TimeoutException)
        {
            process.Dispose();
            throw new ChildProcessException($"{process.Name} was not ready within {timeout.TotalSeconds:0} s", process);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    [GeneratedRegex(@"^metadata emulator listening on http://(?<hostAndPort>\S+) \(jwks (?<jwks>\S+)\)$")]
    private static partial Regex Banner();
}
