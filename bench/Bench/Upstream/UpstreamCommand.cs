using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using TokenInjector.SampleWorkload.Server;

namespace TokenInjector.Bench.Upstream;

/// <summary>
/// <c>bench upstream PORT CERT KEY</c>: the sample echo service serving TLS and HTTP/2 itself on 127.0.0.1:PORT.
/// Every proxy variant forwards to it, and the direct calls dial it, so the upstream's cost is the same for all and
/// nothing sits between a proxy and the service (the Cloud Run emulator would add a hop of its own).
/// </summary>
internal static class UpstreamCommand
{
    public const string ListeningLine = "upstream listening";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output)
    {
        if (args is not [var portText, var certificateFile, var keyFile] || !int.TryParse(portText, CultureInfo.InvariantCulture, out var port))
        {
            await Console.Error.WriteLineAsync("usage: bench upstream PORT CERT_PEM KEY_PEM");
            return 2;
        }

        using var certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        await using var app = EchoServer.Build(new EchoServerOptions(new IPEndPoint(IPAddress.Loopback, port), LogLevel.Warning, certificate));

        // haproxy 2.6 forwards some requests from its h2c front end with ":scheme http" even when the URI is rewritten to
        // https (a few percent under load), which Kestrel resets by default. Accepting the scheme changes no cost.
        app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.AllowAlternateSchemes = true;
        await app.StartAsync();
        await output.WriteLineAsync(ListeningLine);
        await output.FlushAsync();
        await app.WaitForShutdownAsync();
        return 0;
    }
}
