using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TokenInjector.Tests.Support;

/// <summary>
/// Keeps every log line an in-process sidecar writes, with its structured values, scopes and exception text, so a
/// test can search all of it (for example for tokens with <see cref="TokenLeakScanner"/>).
/// Add it with <c>SidecarHostOverrides.Logging = logging => logging.AddProvider(capture)</c>.
/// </summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();
    private readonly ConcurrentQueue<string> _scopes = new();

    /// <summary>Everything logged so far, one entry per line, then every scope opened (their values may be logged too).</summary>
    public string Text => string.Join('\n', _entries.Concat(_scopes));

    /// <summary>How many entries were logged; scopes, which frameworks open per request whatever the level, are not counted.</summary>
    public int Count => _entries.Count;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries, _scopes);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> entries, ConcurrentQueue<string> scopes) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            scopes.Enqueue($"{category} scope {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}"))
                : string.Empty;
            entries.Enqueue($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {values} {exception}");
        }
    }
}
