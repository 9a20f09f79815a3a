using Microsoft.Extensions.Time.Testing;

namespace TokenInjector.Tests.Support;

/// <summary>
/// A manual clock for code that parks on one one-shot timer at a time, such as a token refresh loop. The test waits
/// until the code has parked, then moves the clock, to the moment the code asked to wake or by a step of its own:
/// what happens per wake-up is then independent of how busy the machine is.
/// </summary>
internal sealed class SteppingClock() : FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
{
    private readonly Lock _gate = new();
    private readonly HashSet<TrackedTimer> _armed = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Armed only once the base clock has the timer: the test may step the clock as soon as it sees it armed.
        var tracked = new TrackedTimer(this);
        tracked.Inner = base.CreateTimer(
            s =>
            {
                tracked.Disarm();
                callback(s);
            },
            state,
            dueTime,
            period);
        tracked.Arm(dueTime);
        return tracked;
    }

    /// <summary>
    /// Waits until exactly one timer is armed, moves the clock to its due time, and returns how far the clock moved.
    /// </summary>
    public async Task<TimeSpan> AdvanceToNextWakeAsync()
    {
        var step = await ParkedAsync() - GetUtcNow();
        if (step < TimeSpan.Zero)
        {
            throw new InvalidOperationException($"a timer due {-step} ago has not fired");
        }

        Advance(step);
        return step;
    }

    /// <summary>
    /// Waits until exactly <paramref name="timers"/> timers are armed (one per refresh loop the code runs), then moves
    /// the clock by <paramref name="step"/>, firing those that fall due.
    /// </summary>
    public async Task AdvanceAsync(TimeSpan step, int timers = 1)
    {
        await ParkedAsync(timers);
        Advance(step);
    }

    /// <summary>True while a timer is armed: the code under test waits for the clock.</summary>
    public bool IsParked => ArmedCount > 0;

    /// <summary>How many timers are armed now.</summary>
    public int ArmedTimers => ArmedCount;

    /// <summary>
    /// The earliest due time of the armed timers, once exactly <paramref name="timers"/> are armed: the code under test
    /// has done its work and waits.
    /// </summary>
    public async Task<DateTimeOffset> ParkedAsync(int timers = 1)
    {
        DateTimeOffset? due = null;
        if (!await TestWait.PollAsync(() => ValueTask.FromResult((due = NextDueTime(timers)) is not null), TimeSpan.FromMilliseconds(1)))
        {
            throw new TimeoutException($"{Armed()} are armed; this clock steps code that waits on {timers} timers.");
        }

        return due!.Value;
    }

    private string Armed()
    {
        lock (_gate)
        {
            var now = GetUtcNow();
            return $"{_armed.Count} timers (due in {string.Join(", ", _armed.Select(timer => (timer.DueAt - now).ToString("c", global::System.Globalization.CultureInfo.InvariantCulture)))})";
        }
    }

    private int ArmedCount
    {
        get
        {
            lock (_gate)
            {
                return _armed.Count;
            }
        }
    }

    private DateTimeOffset? NextDueTime(int timers)
    {
        lock (_gate)
        {
            return _armed.Count == timers ? _armed.Min(timer => timer.DueAt) : null;
        }
    }

    private sealed class TrackedTimer(SteppingClock clock) : ITimer
    {
        public ITimer Inner { get; set; } = null!;

        public DateTimeOffset DueAt { get; private set; }

        public void Arm(TimeSpan dueTime)
        {
            var dueAt = clock.GetUtcNow() + dueTime;
            lock (clock._gate)
            {
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    clock._armed.Remove(this);
                    return;
                }

                DueAt = dueAt;
                clock._armed.Add(this);
            }
        }

        public void Disarm()
        {
            lock (clock._gate)
            {
                clock._armed.Remove(this);
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = Inner.Change(dueTime, period);
            Arm(dueTime);
            return changed;
        }

        public void Dispose()
        {
            Disarm();
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Disarm();
            return Inner.DisposeAsync();
        }
    }
}
