namespace TokenInjector.Tokens;

/// <summary>
/// One audience (in one token form, <see cref="TokenKey"/>): its current token, the single fetch in flight, and its refresh loop.
/// <para>
/// Fetches are single-flight: however many callers and the refresh loop ask at once, one request reaches the
/// token source. After a failure the next attempt waits out an exponential backoff with jitter, and callers that
/// arrive meanwhile are answered at once rather than starting fetches of their own.
/// </para>
/// <para>
/// The GKE metadata server caches ID tokens and hands back the same token during most of its last minutes. A
/// refresh that returns a token expiring no later than the current one is therefore "stale", not an error: the
/// current token stays in use and the refresh is retried on a gentler backoff of its own. Both backoffs are cut
/// short as the current token nears the end of its usable life, so a refreshable token never lapses for want of
/// an attempt.
/// </para>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source only links to the stop token; a cancelled source holds no timer or handle, and disposing it would race in-flight fetches.")]
internal sealed class AudienceEntry
{
    private static readonly TimeSpan MinRetryWhileUsable = TimeSpan.FromMilliseconds(500);

    // A pod's metadata server is often not ready for its first seconds: the first failures before any token
    // (about three seconds of retries) are logged at debug level only. A token for another audience is no such
    // hiccup: it is always a warning.
    private const int QuietStartupAttempts = 5;

    // Before an audience's first token (a pod starting while its node's metadata server is not ready yet), retries
    // stay at most this far apart for StartupPhase, so the pod is ready soon after the server is; a 429 still backs
    // off fully.
    private static readonly TimeSpan StartupRetryCap = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StartupPhase = TimeSpan.FromSeconds(30);

    // The metric reason of a failure that is no TokenFetchException.
    private const string UnexpectedFailure = "unexpected";

    // At most one refresh forced by an upstream 401 per interval.
    private static readonly TimeSpan ForcedRefreshInterval = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly IIdTokenSource _source;
    private readonly TimeProvider _time;
    private readonly TokenMetrics _metrics;
    private readonly ILogger _log;
    private readonly Action<string, IdToken> _onRenewed;
    private readonly RetryBackoff _failureBackoff = new(RetryBackoff.DefaultInitial, RetryBackoff.DefaultCap);
    private readonly RetryBackoff _staleBackoff = new(TimeSpan.FromSeconds(1), RetryBackoff.DefaultCap);
    private readonly CancellationTokenSource _stopping = new();
    private readonly DateTimeOffset _createdAt;

    // Guarded by _gate; _current is also read without it (a reference read is atomic).
    private volatile IdToken? _current;
    private Task<FetchOutcome>? _inflight;
    private DateTimeOffset _refreshAt = DateTimeOffset.MinValue;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;
    private string? _lastProblem;
    private long _lastUsedUnixMs;
    private DateTimeOffset _lastForcedRefresh = DateTimeOffset.MinValue;

    public AudienceEntry(
        TokenKey key,
        bool isConfigured,
        IIdTokenSource source,
        TimeProvider time,
        TokenMetrics metrics,
        ILogger log,
        Action<string, IdToken> onRenewed)
    {
        Key = key;
        IsConfigured = isConfigured;
        MetricLabel = isConfigured ? key.Audience : TokenMetrics.OtherAudience;
        _source = source;
        _time = time;
        _metrics = metrics;
        _log = log;
        _onRenewed = onRenewed;
        _createdAt = time.GetUtcNow();
        MarkUsed();
    }

    private enum FetchOutcome
    {
        Fresh,
        Stale,
        Failed,
        Stopped,
    }

    public TokenKey Key { get; }

    public string Audience => Key.Audience;

    public bool IsConfigured { get; }

    public string MetricLabel { get; }

    public DateTimeOffset LastUsed => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Read(ref _lastUsedUnixMs));

    public IdToken? UsableToken(DateTimeOffset now) => _current is { } token && TokenTiming.IsUsable(token, now) ? token : null;

    public async ValueTask<TokenLookup> GetAsync(CancellationToken cancellationToken)
    {
        MarkUsed();
        if (UsableToken(_time.GetUtcNow()) is { } token)
        {
            return TokenLookup.Found(token);
        }

        Task<FetchOutcome>? fetch;
        lock (_gate)
        {
            // Checked again under the lock: a fetch may have finished since the check above.
            var checkedAt = _time.GetUtcNow();
            if (UsableToken(checkedAt) is { } renewed)
            {
                return TokenLookup.Found(renewed);
            }

            fetch = _inflight ?? (checkedAt >= _retryAt ? StartFetchLocked() : null);
        }

        if (fetch is not null)
        {
            await fetch.WaitAsync(cancellationToken);
        }

        var now = _time.GetUtcNow();
        if (UsableToken(now) is { } fetched)
        {
            return TokenLookup.Found(fetched);
        }

        lock (_gate)
        {
            return TokenLookup.Unavailable(_retryAt - now, _lastProblem);
        }
    }

    /// <summary>
    /// Keeps the token fresh until stopped. A dynamic audience (<paramref name="idleLimit"/> not null) ends its
    /// loop once nobody has asked for it for that long.
    /// </summary>
    public async Task RunRefreshLoopAsync(TimeSpan? idleLimit)
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            if (idleLimit is { } limit && now - LastUsed > limit)
            {
                _log.DynamicAudienceIdle(Audience);
                return;
            }

            Task<FetchOutcome>? fetch = null;
            TimeSpan wait;
            lock (_gate)
            {
                // Decided under the lock so that a fetch a caller just finished is not repeated.
                var refreshAt = _current is null ? DateTimeOffset.MinValue : _refreshAt;
                var due = refreshAt > _retryAt ? refreshAt : _retryAt;
                wait = due - now;
                if (wait <= TimeSpan.Zero)
                {
                    fetch = _inflight ?? StartFetchLocked();
                }
            }

            await (fetch ?? Task.Delay(WholeMilliseconds(wait), _time, stopping));
        }
    }

    public void ReportRejected(IdToken token)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (!ReferenceEquals(_current, token) || _inflight is not null || now < _lastForcedRefresh + ForcedRefreshInterval)
            {
                return;
            }

            _lastForcedRefresh = now;
            StartFetchLocked();
        }
    }

    public void Stop() => _stopping.Cancel();

    // Timers count whole milliseconds, and a delay under one is no delay at all: rounded down, the loop would spin
    // until the clock reached the due time.
    private static TimeSpan WholeMilliseconds(TimeSpan wait) => TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds));

    private void MarkUsed() => Interlocked.Exchange(ref _lastUsedUnixMs, _time.GetUtcNow().ToUnixTimeMilliseconds());

    // Task.Run: the fetch must not complete synchronously inside the lock before _inflight is assigned.
    private Task<FetchOutcome> StartFetchLocked() => _inflight = Task.Run(FetchOnceAsync);

    // One fetch, in the order its effects must happen: ask the source and classify the answer; count and log a
    // failure (before the backoff moves, which decides whether the log is quiet); record the duration; move the
    // entry's state under the lock; then tell metrics, the log and the observer what it became.
    private async Task<FetchOutcome> FetchOnceAsync()
    {
        var started = _time.GetTimestamp();
        var previous = _current;
        var result = await FetchAndClassifyAsync(previous);
        if (result.Outcome == FetchOutcome.Failed)
        {
            RecordFailure(result, previous);
        }

        var now = _time.GetUtcNow();
        _metrics.RefreshDuration.WithLabels(MetricLabel).Observe(_time.GetElapsedTime(started).TotalSeconds);
        lock (_gate)
        {
            ApplyLocked(result, now);
            _inflight = null;
        }

        ReportOutcome(result);
        return result.Outcome;
    }

    // The source's answer as an outcome: a token newer than the current one is fresh, one that expires no later is
    // stale (the GKE cache), anything else a failure with its reason. Never throws.
    private async Task<FetchResult> FetchAndClassifyAsync(IdToken? previous)
    {
        try
        {
            var token = await _source.FetchAsync(Key, _stopping.Token);
            if (token.Audience != Audience)
            {
                // Served, it would be refused by the service, or worse, accepted by another one; so it is dropped here.
                throw new TokenFetchException(
                    TokenFetchException.WrongAudience,
                    $"the token source returned a token for another audience ({Describe(token.Audience)}); it is not used");
            }

            return new(previous is not null && token.ExpiresAt <= previous.ExpiresAt ? FetchOutcome.Stale : FetchOutcome.Fresh, token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return new(FetchOutcome.Stopped);
        }
        catch (TokenFetchException ex)
        {
            return new(FetchOutcome.Failed, Problem: ex.Message, FailureReason: ex.Reason);
        }
        catch (Exception ex)
        {
            // An unexpected library failure must not stop the refresh loop. Only the type is kept: a message
            // from deep inside a library could quote a response.
            return new(FetchOutcome.Failed, Problem: "the token source failed unexpectedly (" + ex.GetType().Name + ")", FailureReason: UnexpectedFailure);
        }
    }

    // Counted by reason, and logged: at debug level while a first token is still awaited (a metadata server that is
    // not ready yet), as a warning otherwise, and always for a token of another audience or an unexpected failure.
    private void RecordFailure(FetchResult result, IdToken? previous)
    {
        var reason = result.FailureReason!;
        _metrics.FetchErrors.WithLabels(reason).Inc();
        if (previous is null && _failureBackoff.Attempts < QuietStartupAttempts && reason is not (TokenFetchException.WrongAudience or UnexpectedFailure))
        {
            _log.WaitingForTokenSource(Audience, reason, result.Problem!);
        }
        else
        {
            _log.FetchFailed(Audience, reason, result.Problem!);
        }
    }

    // The entry's state after a fetch: a fresh token is taken and schedules its refresh; a stale one or a failure
    // schedules a retry on its own backoff.
    private void ApplyLocked(FetchResult result, DateTimeOffset now)
    {
        switch (result.Outcome)
        {
            case FetchOutcome.Fresh:
                _current = result.Token;
                _refreshAt = TokenTiming.RefreshAt(result.Token!, Random.Shared.NextDouble());
                _retryAt = DateTimeOffset.MinValue;
                _lastProblem = null;
                _failureBackoff.Reset();
                _staleBackoff.Reset();
                break;
            case FetchOutcome.Stale:
                _retryAt = now + RetryDelay(_staleBackoff, now);
                break;
            case FetchOutcome.Failed:
                _retryAt = now + FailureDelay(result.FailureReason, now);
                _lastProblem = result.Problem;
                break;
            case FetchOutcome.Stopped:
                break;
        }
    }

    // After a failure: the backoff, but never more than StartupRetryCap before the first token in StartupPhase,
    // unless the source asked to slow down (429).
    private TimeSpan FailureDelay(string? failureReason, DateTimeOffset now)
    {
        var delay = RetryDelay(_failureBackoff, now);
        return _current is null && now - _createdAt < StartupPhase && failureReason != TokenFetchException.RateLimited && delay > StartupRetryCap
            ? StartupRetryCap
            : delay;
    }

    private void ReportOutcome(FetchResult result)
    {
        switch (result.Outcome)
        {
            case FetchOutcome.Fresh:
                var token = result.Token!;
                _metrics.Refreshes.WithLabels(MetricLabel, "success").Inc();
                _metrics.ExpiryTimestamp.WithLabels(MetricLabel).Set(token.ExpiresAt.ToUnixTimeSeconds());
                _log.TokenRenewed(Audience, token.ExpiresAt, _refreshAt);
                if (IsConfigured)
                {
                    _onRenewed(Audience, token);
                }

                break;
            case FetchOutcome.Stale:
                _metrics.Refreshes.WithLabels(MetricLabel, "stale").Inc();
                _log.TokenNotYetRenewed(Audience, _retryAt);
                break;
            case FetchOutcome.Failed:
                _metrics.Refreshes.WithLabels(MetricLabel, "error").Inc();
                break;
        }
    }

    // The audience a token came back with, quoted only when it is short printable ASCII (a log line stays one line).
    private static string Describe(string? audience) =>
        audience is null ? "no aud claim"
        : audience.Length <= 200 && audience.All(c => c is >= ' ' and <= '~') ? $"aud '{audience}'"
        : $"an aud of {audience.Length} characters that is not printable ASCII";

    private TimeSpan RetryDelay(RetryBackoff backoff, DateTimeOffset now)
    {
        var delay = backoff.Next(Random.Shared.NextDouble());
        if (_current is { } current && TokenTiming.IsUsable(current, now))
        {
            var halfOfUsableLife = (TokenTiming.UsableUntil(current) - now) / 2;
            var ceiling = halfOfUsableLife > MinRetryWhileUsable ? halfOfUsableLife : MinRetryWhileUsable;
            return delay < ceiling ? delay : ceiling;
        }

        return delay;
    }

    /// <summary>What one fetch came to: the token (fresh or stale), or the failure's message and metric reason.</summary>
    private readonly record struct FetchResult(FetchOutcome Outcome, IdToken? Token = null, string? Problem = null, string? FailureReason = null);
}
