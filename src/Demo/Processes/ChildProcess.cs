using System.Diagnostics;

namespace TokenInjector.Demo.Processes;

/// <summary>
/// One program the demo runs (<c>dotnet some.dll args</c>), with its output captured line by line: the last lines
/// are kept to explain a failure, and callers can wait for a line (a "listening" banner) or watch every line.
/// Stopping is SIGTERM first, then SIGKILL after a grace period, so every child gets to clean up its files.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const int KeptLines = 40;

    private readonly Process _process;
    private readonly Lock _lock = new();
    private readonly Queue<string> _recent = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int? _exitCode;

    private ChildProcess(string name, Process process, Action<string>? onLine)
    {
        Name = name;
        _process = process;
        _process.OutputDataReceived += (_, e) => Received(e.Data, _outputClosed, onLine);
        _process.ErrorDataReceived += (_, e) => Received(e.Data, _errorClosed, onLine: null);
    }

    public string Name { get; }

    public int Id => _process.Id;

    // After disposal the Process object answers nothing; what it said last is kept for the summary.
    public bool HasExited => _exitCode is not null || _process.HasExited;

    public int ExitCode => _exitCode ?? _process.ExitCode;

    /// <summary>Starts <c>dotnet <paramref name="dll"/> <paramref name="args"/></c>; <paramref name="onLine"/> sees each stdout line.</summary>
    public static ChildProcess Start(
        string name, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, Action<string>? onLine = null) =>
        StartProgram(name, DotnetHost(), [dll, .. args], environment, onLine);

    /// <summary>Starts any executable (a published app, nginx, <c>taskset</c>) the same way as <see cref="Start"/>.</summary>
    public static ChildProcess StartProgram(
        string name, string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, Action<string>? onLine = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The user's own token-injector settings or ASP.NET URLs must not leak into the demo's programs.
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("TOKEN_INJECTOR_", StringComparison.Ordinal) || key is "ASPNETCORE_URLS" or "DOTNET_URLS" or "GCE_METADATA_HOST"
                or "ASPNETCORE_HTTP_PORTS" or "ASPNETCORE_HTTPS_PORTS")
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, onLine);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {name}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The first output line that matches, once it is printed; fails when the process exits first.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_recent.FirstOrDefault(match) is { } seen)
            {
                return seen;
            }

            _waiters.Add((match, found));
        }

        var exited = _process.WaitForExitAsync(cancellationToken);
        var first = await Task.WhenAny(found.Task, exited).WaitAsync(timeout, cancellationToken);
        if (first == found.Task)
        {
            return await found.Task;
        }

        await exited;
        throw new ChildProcessException($"{Name} exited with code {_process.ExitCode} before it was ready", this);
    }

    /// <summary>Waits for the process to end on its own.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        await DrainOutputAsync();
    }

    /// <summary>SIGTERM, then SIGKILL when it has not exited after <paramref name="grace"/>. Never throws.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        try
        {
            if (!_process.HasExited)
            {
                NativeSignals.Terminate(_process.Id);
                try
                {
                    await _process.WaitForExitAsync().WaitAsync(grace);
                }
                catch (TimeoutException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync().WaitAsync(grace);
                }
            }

            await DrainOutputAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or not started: nothing left to stop.
        }
    }

    /// <summary>The last lines it printed (stdout and stderr), to explain a failure.</summary>
    public IReadOnlyList<string> RecentLines()
    {
        lock (_lock)
        {
            return [.. _recent];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        try
        {
            _exitCode = _process.HasExited ? _process.ExitCode : -1;
        }
        catch (InvalidOperationException)
        {
            // Never started.
            _exitCode = -1;
        }

        _process.Dispose();
    }

    private async Task DrainOutputAsync()
    {
        // After exit the pipes close once the last lines have been read; wait briefly so nothing is lost.
        try
        {
            await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (TimeoutException)
        {
            // A grandchild may still hold the pipe; the lines so far are enough.
        }
    }

    private void Received(string? line, TaskCompletionSource closed, Action<string>? onLine)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        List<TaskCompletionSource<string>> matched = [];
        lock (_lock)
        {
            _recent.Enqueue(line);
            while (_recent.Count > KeptLines)
            {
                _recent.Dequeue();
            }

            foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
            {
                matched.Add(waiter.Found);
                _waiters.Remove(waiter);
            }
        }

        foreach (var found in matched)
        {
            found.TrySetResult(line);
        }

        onLine?.Invoke(line);
    }

    private static string DotnetHost()
    {
        // The dotnet that runs the demo runs its children too (scripts/demo starts it as 'dotnet demo.dll').
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        return Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}

/// <summary>A child process failed; carries it so its last lines can be shown.</summary>
internal sealed class ChildProcessException(string message, ChildProcess child) : Exception(message)
{
    public ChildProcess Child { get; } = child;
}
