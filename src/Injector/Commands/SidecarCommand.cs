using System.CommandLine;
using System.Net.Sockets;
using TokenInjector.Configuration;
using TokenInjector.Hosting;
using TokenInjector.Tokens;

namespace TokenInjector.Commands;

/// <summary><c>injector sidecar</c>: runs until SIGTERM, then drains and exits 0.</summary>
internal static class SidecarCommand
{
    public static async Task<int> RunAsync(ParseResult commandLine)
    {
        SidecarSettings settings;
        try
        {
            settings = SidecarSettings.From(SidecarSettings.Command.Read(commandLine, Environment.GetEnvironmentVariable), Environment.GetEnvironmentVariable);
        }
        catch (ConfigurationErrorException ex)
        {
            return ConfigurationErrors.Report(SidecarSettings.Command.Command, ex.Errors, Console.Error);
        }

        using var host = SidecarHost.Build(settings);
        var tokenCache = host.Services.GetRequiredService<TokenCache>();
        try
        {
            await host.RunAsync();
        }
        catch (Exception ex) when (ex is IOException or SocketException or UnauthorizedAccessException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"injector sidecar: error: cannot start: {ex.Message}");
            return 1;
        }

        // A refresh loop that crashed stopped the host; say so with the exit code.
        return tokenCache.ExecuteTask is { IsFaulted: true } ? 1 : 0;
    }
}
