using System.CommandLine;
using System.Net.Sockets;
using TokenInjector.Configuration;
using TokenInjector.Plumbing;
using TokenInjector.Serving;

namespace TokenInjector.Commands;

/// <summary><c>injector token --audience A</c>: prints a token fetched through the sidecar's socket.</summary>
internal static class TokenCommand
{
    public static readonly OptionSpec Audience = new("audience", "AUDIENCE", "audience of the token");

    public static readonly OptionSpec Timeout = new("timeout", "DURATION", "how long to wait for the sidecar", defaultValue: "30s");

    /// <summary>The socket option is the sidecar's own, so that both read TOKEN_INJECTOR_SOCKET, which injected app containers get.</summary>
    public static readonly CommandOptions Command = new(
        "token",
        "Prints an ID token for AUDIENCE, fetched through the sidecar's token API socket.",
        [Audience, SidecarSettings.Options.Socket, Timeout]);

    public static async Task<int> RunAsync(ParseResult commandLine)
    {
        var parsed = Command.Read(commandLine, Environment.GetEnvironmentVariable);
        var audience = parsed.String(Audience);
        if (audience is null)
        {
            parsed.AddError(Audience, "is required");
        }

        var timeout = parsed.Duration(Timeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        if (parsed.Errors.Count > 0)
        {
            return ConfigurationErrors.Report(Command.Command, parsed.Errors, Console.Error);
        }

        var socket = parsed.String(SidecarSettings.Options.Socket)!;
        using var client = UnixSocketHttpClient.Create(socket, timeout);
        try
        {
            using var response = await client.GetAsync(TokenApiHandler.TokenPath + "?audience=" + Uri.EscapeDataString(audience!));
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                Console.Out.WriteLine(body);
                return 0;
            }

            await Console.Error.WriteLineAsync($"injector token: {(int)response.StatusCode} {response.ReasonPhrase}: {body.Trim()}");
            return 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"injector token: cannot reach the token API at {socket}: {ex.Message} (is the sidecar running?)");
            return 1;
        }
    }
}
