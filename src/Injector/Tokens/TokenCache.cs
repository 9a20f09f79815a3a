using System.Collections.Concurrent;

namespace TokenInjector.Tokens;

/// <summary>
/// All audiences' tokens. Configured audiences are fetched at start and kept fresh for the life of the process;
/// dynamic audiences (asked for but not configured) are fetched on first use, kept in a bounded set with the
/// least recently used dropped first, and stop being refreshed once idle. A refresh loop that fails in an
/// unexpected way stops the host rather than leaving a sidecar that silently serves expired tokens.
/// </summary>
internal sealed class TokenCache : BackgroundService, ITokenCache
{
    private readonly ConcurrentDictionary<string, AudienceEntry> _entries = new(StringComparer.Ordinal);
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
            _entries[audience] = NewEntry(audience, isConfigured: true);
        }

        if (options.ConfiguredAudiences.Count == 0)
        {
            _configuredAudiencesReady.SetResult();
        }
    }

    /// <summary>Completes when every configured audience has had its first token (what /readyz first reports ready).</summary>
    public Task ConfiguredAudiencesReady => _configuredAudiencesReady.Task;

    public ValueTask<TokenLookup> GetTokenAsync(string audience, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(audience, out var entry))
        {
            return entry.GetAsync(cancellationToken);
        }

        return _options.AllowDynamicAudiences
            ? GetOrAddDynamic(audience).GetAsync(cancellationToken)
            : ValueTask.FromResult(TokenLookup.NotAllowed());
    }

    public void ReportRejected(string audience, IdToken token)
    {
        if (_entries.TryGetValue(audience, out var entry))
        {
            entry.ReportRejected(token);
        }
    }

    public IReadOnlyList<string> AudiencesWithoutUsableToken()
    {
        var now = _time.GetUtcNow();
        return [.. _options.ConfiguredAudiences.Where(audience => _entries[audience].UsableToken(now) is null)];
    }

    public string MetricLabel(string audience) =>
        _entries.TryGetValue(audience, out var entry) ? entry.MetricLabel : TokenMetrics.OtherAudience;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var audience in _options.ConfiguredAudiences)
        {
            Run(_entries[audience]);
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

    private AudienceEntry NewEntry(string audience, bool isConfigured) =>
        new(audience, isConfigured, _source, _time, _metrics, _log, NotifyRenewed);

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

    private AudienceEntry GetOrAddDynamic(string audience)
    {
        lock (_dynamicGate)
        {
            if (_entries.TryGetValue(audience, out var existing))
            {
                return existing;
            }

            if (_dynamicCount >= _options.MaxDynamicAudiences)
            {
                var leastRecentlyUsed = _entries.Values.Where(e => !e.IsConfigured).MinBy(e => e.LastUsed);
                if (leastRecentlyUsed is not null && Remove(leastRecentlyUsed))
                {
                    _log.DynamicAudienceEvicted(leastRecentlyUsed.Audience, _options.MaxDynamicAudiences);
                }
            }

            var entry = NewEntry(audience, isConfigured: false);
            _entries[audience] = entry;
            _dynamicCount++;
            Run(entry);
            return entry;
        }
    }

    private bool Remove(AudienceEntry entry)
    {
        lock (_dynamicGate)
        {
            if (!_entries.TryRemove(new KeyValuePair<string, AudienceEntry>(entry.Audience, entry)))
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
