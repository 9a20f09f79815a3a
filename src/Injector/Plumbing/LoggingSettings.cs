using Microsoft.Extensions.Logging.Console;

namespace TokenInjector.Plumbing;

/// <summary>How a command logs: plain text for people, or one JSON object per line for Cloud Logging.</summary>
internal sealed record LoggingSettings(bool Json, LogLevel MinimumLevel)
{
    public void Apply(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(MinimumLevel);
        // Kestrel, hosting and YARP chatter is noise in a sidecar's log, and YARP's two information lines per
        // proxied call would cost more than the forwarding itself; keep their warnings.
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Yarp", LogLevel.Warning);
        // Off entirely: while this category is enabled at any level, ASP.NET Core opens a logging scope for every
        // request (an async-local that every await then carries); it has nothing above information to say per request.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        if (Json)
        {
            logging.AddConsole(options => options.FormatterName = CloudLoggingJsonFormatter.FormatterName);
            // Registered directly rather than with AddConsoleFormatter, which binds formatter options from
            // configuration by reflection (not trim-safe); this formatter has no options.
            logging.Services.AddSingleton<ConsoleFormatter, CloudLoggingJsonFormatter>();
        }
        else
        {
            logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                options.UseUtcTimestamp = true;
            });
        }
    }
}
