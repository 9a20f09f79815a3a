namespace TokenInjector.Tests.Reliability;

/// <summary>
/// One scenario's line in docs/RELIABILITY.md: what was done, what it measured, and whether it met its bar.
/// Figures are short "name: value" phrases (for example "failed calls: 0", "recovered in: 1.2 s").
/// </summary>
internal sealed record ScenarioResult(ReliabilitySection Section, string Scenario, IReadOnlyList<string> Figures, bool Passed)
{
    /// <summary>Why it failed, or what was accepted; empty when the figures say it all.</summary>
    public string Note { get; init; } = string.Empty;
}

/// <summary>The parts of the reliability report, in the order they appear.</summary>
internal enum ReliabilitySection
{
    Faults,
    Soak,
    Fuzzing,
    Security,
}
