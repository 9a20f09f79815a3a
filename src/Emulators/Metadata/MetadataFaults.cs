using TokenInjector.Emulators.Identity;

namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// Misbehaviour switched on and off while the emulator runs; applies to /computeMetadata/... requests.
/// Thread-safe: tests flip these from their own thread while requests are in flight.
/// </summary>
internal sealed class MetadataFaults : IIdentityTokenFaults
{
    private readonly Lock _gate = new();
    private int? _status;
    private TimeSpan _latency;
    private bool _hang;
    private bool _wrongAudience;
    private IdentityRefusal? _identityRefusal;

    // Completed (and replaced) each time Hang goes from true to false, releasing every request parked on it.
    private TaskCompletionSource _hangReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set (e.g. 429, 500, 503), every request is answered with this status until set back to null.</summary>
    public int? Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
        set
        {
            if (value is < 100 or > 599)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "an HTTP status code is between 100 and 599");
            }

            lock (_gate)
            {
                _status = value;
            }
        }
    }

    /// <summary>Real (wall-clock) delay added before answering.</summary>
    public TimeSpan Latency
    {
        get
        {
            lock (_gate)
            {
                return _latency;
            }
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate)
            {
                _latency = value;
            }
        }
    }

    /// <summary>Never answer, until the client gives up, this is set back to false, or the emulator stops.</summary>
    public bool Hang
    {
        get
        {
            lock (_gate)
            {
                return _hang;
            }
        }
        set
        {
            lock (_gate)
            {
                if (_hang && !value)
                {
                    _hangReleased.TrySetResult();
                    _hangReleased = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                _hang = value;
            }
        }
    }

    /// <summary>
    /// Every ID token minted (the identity endpoint, the OAuth2 token endpoint, generateIdToken) names another audience
    /// than the one asked: <see cref="IdentityTokenIssuer.WrongAudienceSuffix"/> is appended. For testing a client's <c>aud</c> check.
    /// </summary>
    public bool WrongAudience
    {
        get
        {
            lock (_gate)
            {
                return _wrongAudience;
            }
        }
        set
        {
            lock (_gate)
            {
                _wrongAudience = value;
            }
        }
    }

    /// <summary>
    /// When set, every identity request (a valid one: the audience is checked first) is refused as the GKE metadata
    /// server refuses a pod that Workload Identity gives no ID token; access tokens and other paths are unaffected.
    /// </summary>
    public IdentityRefusal? IdentityRefusal
    {
        get
        {
            lock (_gate)
            {
                return _identityRefusal;
            }
        }
        set
        {
            lock (_gate)
            {
                _identityRefusal = value;
            }
        }
    }

    /// <summary>Completes at once when not hanging, otherwise when <see cref="Hang"/> is switched off.</summary>
    internal Task WaitWhileHangingAsync(CancellationToken cancellationToken)
    {
        Task released;
        lock (_gate)
        {
            if (!_hang)
            {
                return Task.CompletedTask;
            }

            released = _hangReleased.Task;
        }

        return released.WaitAsync(cancellationToken);
    }
}
