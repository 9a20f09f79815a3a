using System.Net.Sockets;
using TokenInjector.Configuration;
using TokenInjector.Serving;

namespace TokenInjector.Commands;

/// <summary><c>injector token --audience A</c>: prints a token fetched through the sidecar's socket.</summary>
internal static class TokenCommand
{
    public static readonly CommandOptions Command = new(
        "token",
        "Prints an ID token for AUDIENCE, fetched through the sidecar's token API socket.",
        [
            new("audience", "AUDIENCE", "audience of the token"),
            new("socket", "PATH", "token API Unix socket", Default: "/var/run/token-injector/token.sock"),
            new("timeout", "DURATION", "how long to wait for the sidecar", Default: "30s"),
        ]);

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = Command.Parse(args, Environment.GetEnvironmentVariable);
        if (parsed.HelpRequested)
        {
            Console.Out.Write(Command.HelpText());
            return 0;
        }

        var audience = parsed.String("audience");
        if (audience is null)
        {
            parsed.AddError("audience", "is required");
        }

        var timeout = parsed.Duration("timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        if (parsed.Errors.Count > 0)
        {
            return ConfigurationErrors.Report("token", parsed.Errors, Console.Error);
        }

        var socket = parsed.String("socket")!;
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
