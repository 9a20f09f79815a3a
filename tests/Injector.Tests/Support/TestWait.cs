namespace TokenInjector.Tests.Support;

/// <summary>The one time limit every await in the tests is bounded by.</summary>
internal static class TestWait
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>A gRPC deadline that ends a stuck call well after any legitimate one.</summary>
    public static DateTime Deadline() => DateTime.UtcNow + Limit;

    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(Limit);

    public static Task Bounded(this Task task) => task.WaitAsync(Limit);

    public static Task<T> Bounded<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Limit);

    /// <summary>Waits for a condition another thread makes true (a request reaching a server), polling briefly.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan? interval = null)
    {
        if (!await PollAsync(() => ValueTask.FromResult(condition()), interval ?? TimeSpan.FromMilliseconds(10)))
        {
            throw new TimeoutException("condition not met within the test's wait limit");
        }
    }

    /// <summary>
    /// Runs <paramref name="step"/> every <paramref name="interval"/> until it returns true (a condition it checks, or
    /// the end of a stretch of load it applies); fails when the limit passes first.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> step, TimeSpan interval)
    {
        if (!await PollAsync(async () => await step(), interval))
        {
            throw new TimeoutException("condition not met within the test's wait limit");
        }
    }

    /// <summary>Checks <paramref name="condition"/> every <paramref name="interval"/> until it holds (true) or the limit passes (false).</summary>
    public static async Task<bool> PollAsync(Func<ValueTask<bool>> condition, TimeSpan interval)
    {
        var giveUp = DateTime.UtcNow + Limit;
        while (!await condition())
        {
            if (DateTime.UtcNow > giveUp)
            {
                return false;
            }

            await Task.Delay(interval);
        }

        return true;
    }
}
