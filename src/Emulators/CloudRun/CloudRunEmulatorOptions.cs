using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// Settings of the Cloud Run front-end emulator: where it listens, which service it pretends to be, where the
/// h2c container is, and how strictly it checks ID tokens.
/// </summary>
internal sealed class CloudRunEmulatorOptions
{
    /// <summary>HOST:PORT to bind the TLS listener to; port 0 picks a free port (see <see cref="CloudRunEmulator.Port"/>).</summary>
    public string ListenAddress { get; set; } = "127.0.0.1:0";

    /// <summary>The service URL <c>https://HOST</c>: the audience every token must carry unless a custom one matches.</summary>
    public required string ServiceUrl { get; set; }

    /// <summary>The container, spoken to as plain HTTP/2 with prior knowledge (h2c), like "HTTP/2 end-to-end".</summary>
    public required Uri Upstream { get; set; }

    /// <summary>Server certificate for HOST, with its private key.</summary>
    public required X509Certificate2 Certificate { get; set; }

    /// <summary>The JWKS that signs valid ID tokens (the metadata emulator's, or Google's certs endpoint).</summary>
    public required Uri JwksUri { get; set; }

    /// <summary>Extra accepted audiences (Cloud Run's "custom audiences"), matched exactly.</summary>
    public IList<string> CustomAudiences { get; } = new List<string>();

    /// <summary>Emails allowed to invoke (roles/run.invoker); empty means every holder of a valid token.</summary>
    public IList<string> Invokers { get; } = new List<string>();

    /// <summary>
    /// IAP mode when set: the front end reads the token from <c>Proxy-Authorization</c> (or <c>Authorization</c>),
    /// accepts only this audience (IAP's: the OAuth client ID of a load balancer's IAP, or what the IAP-enabled
    /// Cloud Run service expects) instead of the service URL, and requires the <c>email</c> claim.
    /// </summary>
    public string? IapAudience { get; set; }

    /// <summary>
    /// Answer 403 instead of 401 for a valid token with the wrong audience. Which one the real front end sends
    /// could not be confirmed, so clients must be tested against both.
    /// </summary>
    public bool WrongAudienceIsForbidden { get; set; }

    /// <summary>Cloud Run's request timeout: a request still running after it ends with 504.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>How far past <c>exp</c> a token is still accepted, to absorb clock differences.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock for expiry checks, the JWKS refetch limits and the request timeout.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Every configuration error at once, so a bad command line is reported in one go.</summary>
    internal IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var service)
            || service.Scheme != Uri.UriSchemeHttps
            || service.PathAndQuery.Length > 1)
        {
            errors.Add($"service URL must be https://HOST, got '{ServiceUrl}'");
        }

        if (Upstream is null || !Upstream.IsAbsoluteUri || Upstream.Scheme != Uri.UriSchemeHttp)
        {
            errors.Add($"upstream must be an http://HOST:PORT URL (h2c), got '{Upstream}'");
        }

        if (JwksUri is null || !JwksUri.IsAbsoluteUri)
        {
            errors.Add($"JWKS URL must be absolute, got '{JwksUri}'");
        }

        if (Certificate is null || !Certificate.HasPrivateKey)
        {
            errors.Add("the server certificate must come with its private key");
        }

        if (!DevCommandLine.ListenAddress.TryParse(ListenAddress, out _))
        {
            errors.Add($"listen address must be {DevCommandLine.ListenAddress.Expected}, got '{ListenAddress}'");
        }

        if (IapAudience is { Length: 0 })
        {
            errors.Add("the IAP audience must not be empty");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add("request timeout must be positive");
        }

        if (ClockSkew < TimeSpan.Zero)
        {
            errors.Add("clock skew must not be negative");
        }

        return errors;
    }
}
