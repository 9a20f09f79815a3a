namespace TokenInjector.Demo.Observing;

/// <summary>The closing line of <c>sample-workload client</c>: <c>summary: ok=N failed=N streams_ok=N identities=...</c>.</summary>
internal sealed record ClientSummary(long Ok, long Failed, long StreamsOk, IReadOnlyList<string> Identities);
