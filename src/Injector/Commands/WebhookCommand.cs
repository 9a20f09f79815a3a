using System.CommandLine;
using TokenInjector.Configuration;
using TokenInjector.Webhook;

namespace TokenInjector.Commands;

/// <summary><c>injector webhook</c>: read the settings, start the HTTPS server, run until cancelled.</summary>
internal static class WebhookCommand
{
    public static async Task<int> RunAsync(ParseResult commandLine, CancellationToken cancellationToken)
    {
        WebhookSettings settings;
        try
        {
            settings = WebhookSettings.From(WebhookSettings.Command.Read(commandLine, Environment.GetEnvironmentVariable), Environment.GetEnvironmentVariable);
        }
        catch (ConfigurationErrorException ex)
        {
            return ConfigurationErrors.Report(WebhookSettings.Command.Command, ex.Errors, Console.Error);
        }

        WebApplication app;
        try
        {
            app = await WebhookServer.StartAsync(settings, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }

        await using (app)
        {
            try
            {
                await app.WaitForShutdownAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Asked to stop: a clean exit.
            }

            await app.StopAsync(CancellationToken.None);
        }

        return 0;
    }
}
