using System.Collections.Concurrent;

namespace TokenInjector.Tokens;

/// <summary>
/// All audiences' tokens. Configured audiences are fetched at start and kept fresh for the life of the process;
/// dynamic audiences (asked for but not configured) are fetched on first use, kept in a bounded set with the
/// least recently used dropped first (or, for callers that ask so, a refusal once the set is full), and stop being
/// refreshed once idle. Entries are per <see cref="TokenKey"/>: another form of a configured audience is a dynamic
/// entry of its own. A refresh loop that fails in an
/// unexpected way stops the host rather than leaving a sidecar that silently serves expired tokens.
/// </summary>
internal sealed class TokenCache : BackgroundService, ITokenCache
{
    private readonly ConcurrentDictionary<TokenKey, AudienceEntry> _entries = new();
    private readonly HashSet<string> _configured = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _fatal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _configuredAudiencesReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _dynamicGate = new();
    private readonly TokenCacheOptions _options;
    private readonly IIdTokenSource _source;
    private readonly TimeProvider _time;
    private readonly TokenMetrics _metrics;
    private readonly ILogger _log;
    private readonly IReadOnlyList<ITokenObserver> _observers;
    private int _dynamicCount;

    public TokenCache(
        TokenCacheOptions options,
        IIdTokenSource source,
        TimeProvider time,
        TokenMetrics metrics,
        ILogger<TokenCache> logger,
        IEnumerable<ITokenObserver> observers)
    {
        _options = options;
        _source = source;
        _time = time;
        _metrics = metrics;
        _log = logger;
        _observers = [.. observers];
        foreach (var audience in options.ConfiguredAudiences)
        {
            _configured.Add(audience);
            _entries[TokenKey.Default(audience)] = NewEntry(TokenKey.Default(audience), isConfigured: true);
        }

        if (options.ConfiguredAudiences.Count == 0)
        {
            _configuredAudiencesReady.SetResult();
        }
    }

    /// <summary>Completes when every configured audience has had its first token (what /readyz first reports ready).</summary>
    public Task ConfiguredAudiencesReady => _configuredAudiencesReady.Task;

    public ValueTask<TokenLookup> GetTokenAsync(string audience, CancellationToken cancellationToken) =>
        GetTokenAsync(TokenKey.Default(audience), DynamicAudienceOverflow.EvictLeastRecentlyUsed, cancellationToken);

    public ValueTask<TokenLookup> GetTokenAsync(TokenKey key, DynamicAudienceOverflow overflow, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            return entry.GetAsync(cancellationToken);
        }

        if (!_options.AllowDynamicAudiences && !_configured.Contains(key.Audience))
        {
            return ValueTask.FromResult(TokenLookup.NotAllowed());
        }

        return GetOrAddDynamic(key, overflow, out var full) is { } added
            ? added.GetAsync(cancellationToken)
            : ValueTask.FromResult(full);
    }

    public void ReportRejected(string audience, IdToken token)
    {
        if (_entries.TryGetValue(TokenKey.Default(audience), out var entry))
        {
            entry.ReportRejected(token);
        }
    }

    public IReadOnlyList<string> AudiencesWithoutUsableToken()
    {
        var now = _time.GetUtcNow();
        return [.. _options.ConfiguredAudiences.Where(audience => _entries[TokenKey.Default(audience)].UsableToken(now) is null)];
    }

    public string MetricLabel(string audience) => MetricLabel(TokenKey.Default(audience));

    public string MetricLabel(TokenKey key) =>
        _entries.TryGetValue(key, out var entry) ? entry.MetricLabel : TokenMetrics.OtherAudience;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var audience in _options.ConfiguredAudiences)
        {
            Run(_entries[TokenKey.Default(audience)]);
        }

        try
        {
            await _fatal.Task.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Normal shutdown.
        }
        finally
        {
            foreach (var entry in _entries.Values)
            {
                entry.Stop();
            }
        }
    }

    private AudienceEntry NewEntry(TokenKey key, bool isConfigured) =>
        new(key, isConfigured, _source, _time, _metrics, _log, NotifyRenewed);

    private void NotifyRenewed(string audience, IdToken token)
    {
        if (!_configuredAudiencesReady.Task.IsCompleted && AudiencesWithoutUsableToken().Count == 0)
        {
            _configuredAudiencesReady.TrySetResult();
        }

        foreach (var observer in _observers)
        {
            observer.OnTokenRenewed(audience, token);
        }
    }

    // Null, with the answer in full, when the set is full and overflow says not to evict.
    private AudienceEntry? GetOrAddDynamic(TokenKey key, DynamicAudienceOverflow overflow, out TokenLookup full)
    {
        full = default;
        lock (_dynamicGate)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                return existing;
            }

            if (_dynamicCount >= _options.MaxDynamicAudiences)
            {
                var leastRecentlyUsed = _entries.Values.Where(e => !e.IsConfigured).MinBy(e => e.LastUsed);
                if (overflow == DynamicAudienceOverflow.Refuse)
                {
                    // The first room appears when the least recently used entry goes idle.
                    var room = leastRecentlyUsed is null ? _options.DynamicAudienceIdle : leastRecentlyUsed.LastUsed + _options.DynamicAudienceIdle - _time.GetUtcNow();
                    full = TokenLookup.LimitReached(
                        room > TimeSpan.Zero ? room : TimeSpan.Zero,
                        $"{_options.MaxDynamicAudiences} learned audiences are cached already (--max-dynamic-audiences)");
                    return null;
                }

                if (leastRecentlyUsed is not null && Remove(leastRecentlyUsed))
                {
                    _log.DynamicAudienceEvicted(leastRecentlyUsed.Audience, _options.MaxDynamicAudiences);
                }
            }

            var entry = NewEntry(key, isConfigured: false);
            _entries[key] = entry;
            _dynamicCount++;
            Run(entry);
            return entry;
        }
    }

    private bool Remove(AudienceEntry entry)
    {
        lock (_dynamicGate)
        {
            if (!_entries.TryRemove(new KeyValuePair<TokenKey, AudienceEntry>(entry.Key, entry)))
            {
                return false;
            }

            _dynamicCount--;
            entry.Stop();
            return true;
        }
    }

    private void Run(AudienceEntry entry) => _ = RunAsync(entry);

    private async Task RunAsync(AudienceEntry entry)
    {
        try
        {
            await entry.RunRefreshLoopAsync(entry.IsConfigured ? null : _options.DynamicAudienceIdle);
        }
        catch (OperationCanceledException)
        {
            // Stopped: shutdown or eviction.
        }
        catch (Exception ex)
        {
            _log.RefreshLoopCrashed(ex);
            _fatal.TrySetException(ex);
        }
        finally
        {
            if (!entry.IsConfigured)
            {
                Remove(entry);
            }
        }
    }
}
