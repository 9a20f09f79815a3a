using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TokenInjector.DevCommandLine;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// <c>emulators cloud-run</c>: reads the command line into <see cref="CloudRunEmulatorOptions"/>, starts the
/// emulator, prints one "listening" line (scripts wait for it) and runs until asked to stop (SIGTERM, Ctrl-C).
/// </summary>
internal sealed class CloudRunCommand
{
    private readonly Option<string> _listen = new("--listen") { Description = "where to listen (TLS); port 0 picks a free one", HelpName = "HOST:PORT", Required = true };
    private readonly Option<string> _serviceUrl = new("--service-url") { Description = "the service's URL, the audience tokens must carry", HelpName = "https://HOST", Required = true };
    private readonly Option<Uri> _upstream = Required(DevOptions.Url("--upstream", "the container, spoken to over h2c", "http"));
    private readonly Option<string> _cert = new("--cert") { Description = "the service's certificate (PEM)", HelpName = "FILE", Required = true };
    private readonly Option<string> _key = new("--key") { Description = "its private key (PEM)", HelpName = "FILE", Required = true };
    private readonly Option<Uri> _jwksUrl = Required(DevOptions.Url("--jwks-url", "the JWKS that signs valid ID tokens (the metadata emulator's)", "http", "https"));
    private readonly Option<string[]> _customAudiences = new("--custom-audience") { Description = "another accepted audience (repeatable)", HelpName = "A" };
    private readonly Option<string[]> _invokers = new("--invoker") { Description = "an email allowed to call (repeatable; none: every valid token)", HelpName = "EMAIL" };
    private readonly Option<string> _iapAudience = new("--iap-audience") { Description = "IAP mode: the token comes in Proxy-Authorization (or Authorization), carries this audience and an email claim", HelpName = "AUDIENCE" };
    private readonly Option<bool> _wrongAudienceForbidden = new("--wrong-audience-forbidden") { Description = "answer 403 rather than 401 to a valid token for another audience" };
    private readonly Option<TimeSpan> _requestTimeout = DevOptions.Duration(
        "--request-timeout", "how long a request may run before it ends with 504", TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1), defaultValue: TimeSpan.FromSeconds(300));

    private CloudRunCommand()
    {
    }

    public static Command Create()
    {
        var parts = new CloudRunCommand();
        var command = new Command("cloud-run", "Cloud Run's front end: TLS, ID token checks, then h2c to the container.")
        {
            parts._listen, parts._serviceUrl, parts._upstream, parts._cert, parts._key, parts._jwksUrl,
            parts._customAudiences, parts._invokers, parts._iapAudience, parts._wrongAudienceForbidden, parts._requestTimeout,
        };
        DevCommand.SetAction(command, parts.Bind, RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(CloudRunEmulatorOptions options, DevInvocation invocation)
    {
        await using var emulator = await CloudRunEmulator.StartAsync(options, invocation.Stop);
        var host = ListenAddress.TryParse(options.ListenAddress, out var endpoint) && !endpoint.IsLocalhost
            ? (endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]" : endpoint.Address.ToString())
            : "localhost";
        await invocation.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"cloud-run emulator listening on https://{host}:{emulator.Port} for {options.ServiceUrl.TrimEnd('/')}"));
        await invocation.Output.FlushAsync(CancellationToken.None);
        await invocation.WhenStopped();
        return 0;
    }

    private static Option<Uri> Required(Option<Uri> option)
    {
        option.Required = true;
        return option;
    }

    private CloudRunEmulatorOptions Bind(ParseResult parsed, List<string> errors)
    {
        var options = new CloudRunEmulatorOptions
        {
            ListenAddress = parsed.GetRequiredValue(_listen),
            ServiceUrl = parsed.GetRequiredValue(_serviceUrl),
            Upstream = parsed.GetRequiredValue(_upstream),
            Certificate = LoadCertificate(parsed.GetRequiredValue(_cert), parsed.GetRequiredValue(_key), errors)!,
            JwksUri = parsed.GetRequiredValue(_jwksUrl),
            IapAudience = parsed.GetValue(_iapAudience),
            WrongAudienceIsForbidden = parsed.GetValue(_wrongAudienceForbidden),
            RequestTimeout = parsed.GetValue(_requestTimeout),
        };
        foreach (var audience in parsed.GetValue(_customAudiences) ?? [])
        {
            options.CustomAudiences.Add(audience);
        }

        foreach (var invoker in parsed.GetValue(_invokers) ?? [])
        {
            options.Invokers.Add(invoker);
        }

        if (options.Certificate is not null)
        {
            errors.AddRange(options.Validate());
        }

        return options;
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
