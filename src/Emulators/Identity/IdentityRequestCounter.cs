using System.Collections.Concurrent;

namespace TokenInjector.Emulators.Identity;

/// <summary>
/// Counts ID token requests per audience (the metadata server's identity endpoint whatever the outcome; the OAuth2
/// token endpoint and generateIdToken once a request is well-formed), so tests can assert how often a client really
/// went for a token (caching, retries, thundering herds).
/// </summary>
internal sealed class IdentityRequestCounter
{
    private readonly ConcurrentDictionary<string, int> _byAudience = new(StringComparer.Ordinal);
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public void Record(string audience)
    {
        _byAudience.AddOrUpdate(audience, 1, static (_, count) => count + 1);
        Interlocked.Increment(ref _total);
    }

    public int For(string audience) => _byAudience.TryGetValue(audience, out var count) ? count : 0;

    /// <summary>The count per audience at this moment, in ordinal order of the audiences.</summary>
    public IReadOnlyDictionary<string, int> Snapshot() => new SortedDictionary<string, int>(_byAudience, StringComparer.Ordinal);
}
