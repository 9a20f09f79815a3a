namespace TokenInjector.Tests.Support;

/// <summary>
/// Calls that go on while tokens rotate, on a clock the test moves a step at a time. Between moves the callers call
/// freely (a refresh started by the last move runs among their calls); for a move they pause after the call in hand,
/// and the clock moves only once every refresh loop waits for it again, that is once no token fetch and no request is
/// in flight. A refresh therefore always completes before the clock moves on and no call spans a move, however busy
/// the machine is. The run ends at the first failed call.
/// </summary>
internal static class CallsAcrossRotations
{
    /// <summary>Runs <paramref name="callers"/> loops of <paramref name="call"/> (given the caller's number) over <paramref name="moves"/> moves.</summary>
    /// <returns>How many calls completed.</returns>
    public static async Task<int> RunAsync(SteppingClock clock, int refreshLoops, int moves, TimeSpan step, int callers, Func<int, Task> call)
    {
        const int CallsBetweenMoves = 2;
        var calls = 0;
        var done = false;
        var callsSinceMove = new int[callers];
        var moveDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task CallerAsync(int id)
        {
            while (!Volatile.Read(ref done))
            {
                var resumed = Volatile.Read(ref moveDone).Task;
                if (Volatile.Read(ref callsSinceMove[id]) >= CallsBetweenMoves)
                {
                    await resumed;
                    continue;
                }

                await call(id);
                Interlocked.Increment(ref calls);
                Interlocked.Increment(ref callsSinceMove[id]);
            }
        }

        var running = Enumerable.Range(0, callers).Select(CallerAsync).ToList();
        bool AnyFailed() => running.Any(caller => caller.IsFaulted);
        try
        {
            for (var move = 0; move < moves && !AnyFailed(); move++)
            {
                await TestWait.UntilAsync(
                    () => AnyFailed() || Enumerable.Range(0, callers).All(id => Volatile.Read(ref callsSinceMove[id]) >= CallsBetweenMoves),
                    TimeSpan.FromMilliseconds(1));
                if (AnyFailed())
                {
                    break;
                }

                await clock.AdvanceAsync(step, refreshLoops);
                Array.Clear(callsSinceMove); // before the new gate goes up, so that no caller waits at it with calls to make
                Interlocked.Exchange(ref moveDone, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
            }
        }
        finally
        {
            Volatile.Write(ref done, true); // a failed caller or a stuck clock ends the run: the other callers stop too
            moveDone.TrySetResult();
            await Task.WhenAll(running).Bounded();
        }

        return calls;
    }
}
