namespace TokenInjector.Tests.SampleWorkload;

/// <summary>Collects output like a <see cref="StringWriter"/> and completes <see cref="Matched"/> at the first line that matches.</summary>
internal sealed class LineSignallingWriter(Func<string, bool> predicate) : StringWriter
{
    private readonly TaskCompletionSource _matched = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Matched => _matched.Task;

    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        if (value is not null && predicate(value))
        {
            _matched.TrySetResult();
        }
    }
}
