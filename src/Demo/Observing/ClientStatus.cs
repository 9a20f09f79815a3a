namespace TokenInjector.Demo.Observing;

/// <summary>What one per-second status line of <c>sample-workload client</c> says (counts are totals so far).</summary>
internal sealed record ClientStatus(long Ok, long Failed, long StreamsOk, long StreamsFailed, long StreamMessages, string? Caller, string? RecentError);
