namespace TokenInjector.Tokens;

/// <summary>
/// The Workload Identity refusal the token source meets now, if any, for <c>/readyz</c> to explain; the line that
/// names the fix is logged when a refusal starts (or changes), not on every retry of every audience, and the state
/// clears with the next token fetched.
/// </summary>
internal sealed class WorkloadIdentityRefusals(ILogger<WorkloadIdentityRefusals> logger)
{
    private WorkloadIdentityRefusal? _current;

    public WorkloadIdentityRefusal? Current => Volatile.Read(ref _current);

    public void Report(WorkloadIdentityRefusal refusal)
    {
        var previous = Interlocked.Exchange(ref _current, refusal);
        if (previous?.Reason != refusal.Reason)
        {
            logger.WorkloadIdentityRefused(refusal.Reason, refusal.Problem, refusal.Fix);
        }
    }

    public void Clear() => Volatile.Write(ref _current, null);
}

/// <summary>The log event of <see cref="WorkloadIdentityRefusals"/> (the token range, 100–199).</summary>
internal static partial class WorkloadIdentityLog
{
    [LoggerMessage(EventId = 150, Level = LogLevel.Error, Message = "No ID tokens from Workload Identity ({Reason}): {Problem}. To fix: {Fix}")]
    public static partial void WorkloadIdentityRefused(this ILogger logger, string reason, string problem, string fix);
}
