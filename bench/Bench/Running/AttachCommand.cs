using TokenInjector.DevStack.Processes;

namespace TokenInjector.Bench.Running;

/// <summary>
/// A command run beside one measured load and stopped (SIGTERM, then SIGKILL) when the load ends, such as
/// <c>perf record -g -p {pid} -o /tmp/{name}.data</c> or <c>strace -c -f -p {pid} -o /tmp/{name}.txt</c>:
/// <c>{pid}</c> becomes the measured process, <c>{name}</c> the variant and stream count (no spaces or commas).
/// </summary>
internal sealed record AttachCommand(string Template)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    public async Task<Attached> StartAsync(int pid, string name, CancellationToken cancellationToken)
    {
        var safeName = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_'));
        var words = Template.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(word => word.Replace("{pid}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{name}", safeName, StringComparison.Ordinal))
            .ToArray();
        var child = ChildProcess.Start(words[0], words[1..], name: "attached " + words[0]);
        // perf and strace need a moment to attach to every thread before the load starts.
        await Task.Delay(Settle, cancellationToken);
        return new Attached(child);
    }

    /// <summary>The running command: stopped after its load, and killed if the run ends early.</summary>
    internal sealed class Attached(ChildProcess child) : IDisposable
    {
        public Task StopAsync() => child.StopAsync(StopGrace);

        public void Dispose() => child.Dispose();
    }
}
