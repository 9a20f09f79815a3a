namespace TokenInjector.Tokens;

/// <summary>
/// Exponential backoff with jitter for failed or stale fetches: each delay is drawn from [d/2, d] where d doubles
/// from <see cref="Initial"/> up to <see cref="Cap"/>. The first retries are quick because a pod's metadata server is
/// often not ready for its first second or two.
/// </summary>
internal sealed class RetryBackoff(TimeSpan initial, TimeSpan cap)
{
    public static readonly TimeSpan DefaultInitial = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan DefaultCap = TimeSpan.FromSeconds(30);

    private int _attempt;

    public TimeSpan Initial { get; } = initial;

    public TimeSpan Cap { get; } = cap;

    public int Attempts => _attempt;

    public TimeSpan Next(double jitter)
    {
        var ceiling = Initial * Math.Pow(2, Math.Min(_attempt, 30));
        if (ceiling > Cap)
        {
            ceiling = Cap;
        }

        _attempt++;
        return (ceiling / 2) + (ceiling / 2 * jitter);
    }

    public void Reset() => _attempt = 0;
}
