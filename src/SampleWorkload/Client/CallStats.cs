using TokenInjector.SampleWorkload.Protos;

namespace TokenInjector.SampleWorkload.Client;

/// <summary>What the client has seen so far; updated from concurrent calls, read once a second by the reporter.</summary>
internal sealed class CallStats
{
    private readonly Lock _lock = new();
    private readonly List<string> _identities = [];
    private long _ok;
    private long _failed;
    private long _skipped;
    private long _streamsOk;
    private long _streamsFailed;
    private long _streamMessages;
    private string? _lastEmail;
    private DateTimeOffset? _lastExpiry;
    private string? _lastError;
    private long _errorsSinceReport;

    public void CallSucceeded(CallerIdentity? caller)
    {
        lock (_lock)
        {
            _ok++;
            SawCaller(caller);
        }
    }

    public void CallFailed(string error)
    {
        lock (_lock)
        {
            _failed++;
            SawError(error);
        }
    }

    /// <summary>A tick with too many calls still in flight: the service is slower than the rate asks for.</summary>
    public void CallSkipped()
    {
        lock (_lock)
        {
            _skipped++;
        }
    }

    public void StreamMessage(CallerIdentity? caller)
    {
        lock (_lock)
        {
            _streamMessages++;
            SawCaller(caller);
        }
    }

    public void StreamSucceeded()
    {
        lock (_lock)
        {
            _streamsOk++;
        }
    }

    public void StreamFailed(string error)
    {
        lock (_lock)
        {
            _streamsFailed++;
            SawError(error);
        }
    }

    /// <summary>A consistent copy; <paramref name="resetErrors"/> starts a new window for "errors since the last line".</summary>
    public CallStatsSnapshot Snapshot(bool resetErrors)
    {
        lock (_lock)
        {
            var snapshot = new CallStatsSnapshot(
                _ok, _failed, _skipped, _streamsOk, _streamsFailed, _streamMessages,
                _lastEmail, _lastExpiry, _errorsSinceReport > 0 ? _lastError : null, _errorsSinceReport, [.. _identities]);
            if (resetErrors)
            {
                _errorsSinceReport = 0;
            }

            return snapshot;
        }
    }

    private void SawCaller(CallerIdentity? caller)
    {
        if (caller is null || caller.Email.Length == 0)
        {
            return;
        }

        _lastEmail = caller.Email;
        if (caller.ExpiresAt is { } expiry)
        {
            _lastExpiry = expiry.ToDateTimeOffset();
        }

        if (!_identities.Contains(caller.Email))
        {
            _identities.Add(caller.Email);
        }
    }

    private void SawError(string error)
    {
        _lastError = error;
        _errorsSinceReport++;
    }
}

/// <summary>A point-in-time copy of <see cref="CallStats"/>.</summary>
internal sealed record CallStatsSnapshot(
    long Ok,
    long Failed,
    long Skipped,
    long StreamsOk,
    long StreamsFailed,
    long StreamMessages,
    string? LastEmail,
    DateTimeOffset? LastExpiry,
    string? RecentError,
    long RecentErrors,
    IReadOnlyList<string> Identities)
{
    /// <summary>Every failed call, unary or streaming: what decides the exit code.</summary>
    public long AllFailed => Failed + StreamsFailed;
}
