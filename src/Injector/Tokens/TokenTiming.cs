namespace TokenInjector.Tokens;

/// <summary>
/// When to refresh a token and when to stop handing it out. Both scale with the token's lifetime so that the
/// rules hold for Google's one-hour tokens and for the short tokens tests use:
/// <list type="bullet">
/// <item>refresh starts when min(5 min, lifetime / 2) remains, moved earlier by up to a tenth of that (jitter),
/// so many sidecars started together do not refresh in lockstep;</item>
/// <item>a token is never handed out within min(30 s, lifetime / 10) of its expiry, so a caller always has
/// time to use it.</item>
/// </list>
/// </summary>
internal static class TokenTiming
{
    private static readonly TimeSpan MaxRefreshLead = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxHandOutMargin = TimeSpan.FromSeconds(30);

    public static TimeSpan RefreshLead(IdToken token) => Min(MaxRefreshLead, token.Lifetime / 2);

    public static TimeSpan HandOutMargin(IdToken token) => Min(MaxHandOutMargin, token.Lifetime / 10);

    /// <summary>The last moment the token may be handed out.</summary>
    public static DateTimeOffset UsableUntil(IdToken token) => token.ExpiresAt - HandOutMargin(token);

    public static bool IsUsable(IdToken token, DateTimeOffset now) => now < UsableUntil(token);

    /// <param name="token">The current token.</param>
    /// <param name="jitter">A number in [0, 1): how much of the jitter window to take.</param>
    public static DateTimeOffset RefreshAt(IdToken token, double jitter)
    {
        var lead = RefreshLead(token);
        return token.ExpiresAt - lead - (lead / 10 * jitter);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
