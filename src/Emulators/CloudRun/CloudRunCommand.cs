using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// <c>emulators cloud-run</c>: parses the command line into <see cref="CloudRunEmulatorOptions"/>, starts the
/// emulator, prints one "listening" line (scripts wait for it) and runs until SIGTERM or Ctrl-C.
/// </summary>
internal static class CloudRunCommand
{
    public const string Usage =
        "usage: emulators cloud-run --listen HOST:PORT --service-url https://HOST --upstream http://HOST:PORT "
        + "--cert FILE --key FILE --jwks-url URL [--custom-audience A]... [--invoker EMAIL]... "
        + "[--wrong-audience-forbidden] [--request-timeout SECONDS]";

    /// <summary>Runs the emulator until the process is asked to stop; exit code 2 on a bad command line.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        using var stopping = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        return await RunAsync(args, Console.Out, Console.Error, stopping.Token);

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopping.Cancel();
        }
    }

    /// <summary>The testable core: output and the stop signal come from the caller.</summary>
    internal static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken stopping)
    {
        var errors = new List<string>();
        var options = Parse(args, errors);
        if (options is null || errors.Count > 0)
        {
            foreach (var message in errors)
            {
                await error.WriteLineAsync(message);
            }

            await error.WriteLineAsync(Usage);
            return 2;
        }

        await using var emulator = await CloudRunEmulator.StartAsync(options, stopping);
        var host = ListenEndpoint.TryParse(options.ListenAddress, out var endpoint) && endpoint.Address is { } address
            ? (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString())
            : "localhost";
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"cloud-run emulator listening on https://{host}:{emulator.Port} for {options.ServiceUrl.TrimEnd('/')}"));
        await output.FlushAsync(CancellationToken.None);

        try
        {
            await Task.Delay(Timeout.Infinite, stopping);
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }

    /// <summary>Reads the arguments, collecting every error rather than stopping at the first.</summary>
    internal static CloudRunEmulatorOptions? Parse(string[] args, List<string> errors)
    {
        string? listen = null, serviceUrl = null, upstream = null, certFile = null, keyFile = null, jwksUrl = null;
        var customAudiences = new List<string>();
        var invokers = new List<string>();
        var wrongAudienceForbidden = false;
        var requestTimeout = TimeSpan.FromSeconds(300);

        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string? inlineValue = null;
            if (name.StartsWith("--", StringComparison.Ordinal) && name.IndexOf('=', StringComparison.Ordinal) is var eq and > 0)
            {
                inlineValue = name[(eq + 1)..];
                name = name[..eq];
            }

            if (name == "--wrong-audience-forbidden")
            {
                wrongAudienceForbidden = true;
                continue;
            }

            if (name is not ("--listen" or "--service-url" or "--upstream" or "--cert" or "--key" or "--jwks-url"
                or "--custom-audience" or "--invoker" or "--request-timeout"))
            {
                errors.Add($"unknown option '{name}'");
                continue;
            }

            var value = inlineValue;
            if (value is null)
            {
                if (i + 1 >= args.Length)
                {
                    errors.Add($"option {name} needs a value");
                    continue;
                }

                value = args[++i];
            }

            switch (name)
            {
                case "--listen": listen = value; break;
                case "--service-url": serviceUrl = value; break;
                case "--upstream": upstream = value; break;
                case "--cert": certFile = value; break;
                case "--key": keyFile = value; break;
                case "--jwks-url": jwksUrl = value; break;
                case "--custom-audience": customAudiences.Add(value); break;
                case "--invoker": invokers.Add(value); break;
                default:
                    if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
                    {
                        requestTimeout = TimeSpan.FromSeconds(seconds);
                    }
                    else
                    {
                        errors.Add($"--request-timeout must be a positive number of seconds, got '{value}'");
                    }

                    break;
            }
        }

        Require(listen, "--listen", errors);
        Require(serviceUrl, "--service-url", errors);
        Require(certFile, "--cert", errors);
        Require(keyFile, "--key", errors);
        var upstreamUri = ParseUri(upstream, "--upstream", errors);
        var jwksUri = ParseUri(jwksUrl, "--jwks-url", errors);
        var certificate = certFile is not null && keyFile is not null ? LoadCertificate(certFile, keyFile, errors) : null;
        if (errors.Count > 0 || upstreamUri is null || jwksUri is null || certificate is null)
        {
            return null;
        }

        var options = new CloudRunEmulatorOptions
        {
            ListenAddress = listen!,
            ServiceUrl = serviceUrl!,
            Upstream = upstreamUri,
            Certificate = certificate,
            JwksUri = jwksUri,
            WrongAudienceIsForbidden = wrongAudienceForbidden,
            RequestTimeout = requestTimeout,
        };
        foreach (var audience in customAudiences)
        {
            options.CustomAudiences.Add(audience);
        }

        foreach (var invoker in invokers)
        {
            options.Invokers.Add(invoker);
        }

        errors.AddRange(options.Validate());
        return options;
    }

    private static void Require(string? value, string name, List<string> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add($"option {name} is required");
        }
    }

    private static Uri? ParseUri(string? value, string name, List<string> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add($"option {name} is required");
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            errors.Add($"option {name} must be an absolute URL, got '{value}'");
            return null;
        }

        return uri;
    }

    private static X509Certificate2? LoadCertificate(string certFile, string keyFile, List<string> errors)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);

            // A PEM-loaded key is ephemeral; a PKCS#12 round trip gives SslStream a key it can use on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            errors.Add($"cannot load the certificate from {certFile} and {keyFile}: {ex.Message}");
            return null;
        }
    }
}
