using System.Text.RegularExpressions;
using TokenInjector.DevCommandLine;
using TokenInjector.DevStack.Processes;

namespace TokenInjector.DevStack.Stack;

/// <summary><c>emulators metadata</c> as a child process, on a port of its choosing, once it listens.</summary>
internal sealed partial record MetadataEmulatorProcess(ChildProcess Process, string HostAndPort, Uri JwksUri)
{
    public Uri Address => new($"http://{HostAndPort}/");

    /// <summary>Starts the emulator on 127.0.0.1, port 0; <see cref="WhenListeningAsync"/> reads which port it got.</summary>
    /// <param name="emulators">The <c>emulators</c> program (emulators.dll or a published executable).</param>
    /// <param name="tokenLifetime">Lifetime of its ID tokens.</param>
    /// <param name="serviceAccount">The service account's email; the emulator's own default when null.</param>
    public static ChildProcess Launch(string emulators, TimeSpan tokenLifetime, string? serviceAccount) => ChildProcess.Start(
        emulators,
        [
            "metadata", "--listen", "127.0.0.1:0", "--token-lifetime", DevOptions.Format(tokenLifetime),
            .. serviceAccount is null ? Array.Empty<string>() : ["--email", serviceAccount],
        ],
        name: "metadata emulator");

    /// <summary>
    /// Once the emulator <paramref name="process"/> says it listens (and where). Fails with a
    /// <see cref="ChildProcessException"/> when it exits first or is not listening after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<MetadataEmulatorProcess> WhenListeningAsync(ChildProcess process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(process);
        string line;
        try
        {
            // "metadata emulator listening on http://127.0.0.1:P (jwks http://127.0.0.1:P/oauth2/v3/certs)"
            line = await process.WaitForLineAsync(Banner().IsMatch, timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new ChildProcessException($"{process.Name} was not listening within {timeout.TotalSeconds:0} s", process);
        }

        var banner = Banner().Match(line);
        return new MetadataEmulatorProcess(process, banner.Groups["hostAndPort"].Value, new Uri(banner.Groups["jwks"].Value));
    }

    /// <summary><see cref="Launch"/>, then <see cref="WhenListeningAsync"/>; the process is gone when that fails.</summary>
    public static async Task<MetadataEmulatorProcess> StartAsync(
        string emulators, TimeSpan tokenLifetime, string? serviceAccount, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var process = Launch(emulators, tokenLifetime, serviceAccount);
        try
        {
            return await WhenListeningAsync(process, timeout, cancellationToken);
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
