using System.Diagnostics;

namespace TokenInjector.Tests.Support;

/// <summary>
/// A clock that runs <c>factor</c> times faster than real time, for timers and timestamps alike. Shared by an
/// in-process emulator and sidecar, it lets a test live through a 150 s token lifetime in a few real seconds while
/// real sockets, real HTTP and real concurrency stay in play (a frozen fake clock cannot drive real I/O).
/// </summary>
internal sealed class ScaledTimeProvider(double factor) : TimeProvider
{
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => _start + (Stopwatch.GetElapsedTime(_startTimestamp) * factor);

    public override long GetTimestamp() => _startTimestamp + (long)((Stopwatch.GetTimestamp() - _startTimestamp) * factor);

    public override long TimestampFrequency => Stopwatch.Frequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new ScaledTimer(new Timer(callback, state, Scale(dueTime), Scale(period)), this);

    private TimeSpan Scale(TimeSpan interval) => interval == Timeout.InfiniteTimeSpan ? interval : interval / factor;

    private sealed class ScaledTimer(Timer timer, ScaledTimeProvider clock) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => timer.Change(clock.Scale(dueTime), clock.Scale(period));

        public void Dispose() => timer.Dispose();

        public ValueTask DisposeAsync() => timer.DisposeAsync();
    }
}
