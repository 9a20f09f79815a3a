using TokenInjector.Configuration;

namespace TokenInjector.Webhook;

/// <summary><c>injector webhook</c>: parse the options, start the HTTPS server, run until cancelled.</summary>
internal static class WebhookCommand
{
    /// <summary>Runs the webhook with the arguments that follow the word <c>webhook</c>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        WebhookSettings settings;
        try
        {
            var options = WebhookSettings.Command.Parse(args, Environment.GetEnvironmentVariable);
            if (options.HelpRequested)
            {
                await Console.Out.WriteAsync(WebhookSettings.Command.HelpText());
                return 0;
            }

            settings = WebhookSettings.From(options, Environment.GetEnvironmentVariable);
        }
        catch (ConfigurationErrorException ex)
        {
            foreach (var error in ex.Errors)
            {
                await Console.Error.WriteLineAsync("injector webhook: " + error);
            }

            return 2;
        }

        WebApplication app;
        try
        {
            app = await WebhookServer.StartAsync(settings, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 0;
        }

        await using (app)
        {
            try
            {
                await app.WaitForShutdownAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Asked to stop: a clean exit.
            }

            await app.StopAsync(CancellationToken.None);
        }

        return 0;
    }
}
