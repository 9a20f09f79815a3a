using TokenInjector.Emulators.Identity;

namespace TokenInjector.Emulators.Metadata;

/// <summary>Settings of a <see cref="MetadataEmulator"/>; defaults mimic a fresh, healthy GKE metadata server.</summary>
internal sealed class MetadataEmulatorOptions
{
    /// <summary>HOST:PORT to listen on; port 0 picks any free port (read it back from <see cref="MetadataEmulator.HostAndPort"/>).</summary>
    public string ListenAddress { get; set; } = "127.0.0.1:0";

    /// <summary>Lifetime of identity tokens (exp - iat). Real tokens live one hour; tests shorten it to exercise refresh.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Mimic the GKE metadata server's cache: the same token string per audience until its last
    /// <see cref="GkeCacheWindow"/>, then a fresh one. A client that refreshes "early" therefore gets the old token back.
    /// </summary>
    public bool GkeCache { get; set; }

    /// <summary>How long before exp the GKE cache stops handing out a token.</summary>
    public TimeSpan GkeCacheWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>For this long after start, fail in the way <see cref="StartupFailure"/> says (--fail-first).</summary>
    public TimeSpan StartupWindow { get; set; } = TimeSpan.Zero;

    /// <summary>The kind of failure during <see cref="StartupWindow"/>.</summary>
    public StartupFailure StartupFailure { get; set; } = StartupFailure.Refuse;

    /// <summary>Email of the (only) service account, reachable as "default" or by this address.</summary>
    public string ServiceAccountEmail { get; set; } = "app@demo-project.iam.gserviceaccount.com";

    /// <summary>The account's numeric unique id: the token's sub and azp.</summary>
    public string ServiceAccountId { get; set; } = "112233445566778899001";

    /// <summary>The account as its tokens name it.</summary>
    public ServiceAccountIdentity ServiceAccount => new(ServiceAccountEmail, ServiceAccountId);

    /// <summary>
    /// More service accounts of the project, which IAM's <c>generateIdToken</c> acts as for any caller that holds an access
    /// token of this emulator (as if every caller had <c>roles/iam.serviceAccountOpenIdTokenCreator</c> and
    /// <c>roles/iam.serviceAccountTokenCreator</c> on each): targets and delegates of impersonation. Any other account is
    /// not found.
    /// </summary>
    public IList<string> OtherServiceAccounts { get; } = new List<string>();

    /// <summary>Clock for iat/exp, the GKE cache and the startup window (not for injected latency, which is real).</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Every problem with these settings, so a caller can report them all at once.</summary>
    internal List<string> Validate()
    {
        var errors = new List<string>();
        if (!DevCommandLine.ListenAddress.TryParse(ListenAddress, out _))
        {
            errors.Add($"listen address '{ListenAddress}' is not {DevCommandLine.ListenAddress.Expected}");
        }

        if (TokenLifetime < TimeSpan.FromSeconds(1))
        {
            errors.Add("token lifetime must be at least 1 second");
        }

        if (GkeCacheWindow < TimeSpan.Zero)
        {
            errors.Add("GKE cache window must not be negative");
        }

        if (StartupWindow < TimeSpan.Zero)
        {
            errors.Add("startup window must not be negative");
        }

        if (!Enum.IsDefined(StartupFailure))
        {
            errors.Add($"unknown startup failure mode {StartupFailure}");
        }

        if (!IsEmail(ServiceAccountEmail))
        {
            errors.Add($"service account email '{ServiceAccountEmail}' is not an email address");
        }

        foreach (var other in OtherServiceAccounts.Where(other => !IsEmail(other)))
        {
            errors.Add($"other service account '{other}' is not an email address");
        }

        if (string.IsNullOrEmpty(ServiceAccountId) || !ServiceAccountId.All(char.IsAsciiDigit))
        {
            errors.Add($"service account id '{ServiceAccountId}' must be numeric");
        }

        if (Time is null)
        {
            errors.Add("time provider is required");
        }

        return errors;
    }

    // An account's email as the emulator needs it: something@somewhere, with no '/' (it goes into URL paths).
    private static bool IsEmail(string? text) =>
        !string.IsNullOrWhiteSpace(text) && text.Contains('@', StringComparison.Ordinal) && !text.Contains('/', StringComparison.Ordinal);
}
