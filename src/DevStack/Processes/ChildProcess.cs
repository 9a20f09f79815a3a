using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TokenInjector.DevStack.Processes;

/// <summary>
/// A program run as a real child process, the one way the demo, the benchmark and the tests start one. A <c>.dll</c>
/// runs with the <c>dotnet</c> that runs this process. Stdout and stderr are kept, apart and as one stream of lines,
/// lines can be awaited, every wait is bounded by the caller's timeout, and stopping is SIGTERM first (so that the child cleans up), then
/// SIGKILL. The child never inherits the user's own token-injector or ASP.NET settings: what it needs is passed.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    /// <summary>How long <see cref="RunAsync"/> lets a program run: a command that answers, not a server.</summary>
    public static readonly TimeSpan DefaultRunTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private static readonly string[] InheritedSettings =
        ["ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "GCE_METADATA_HOST"];

    private readonly Process _process;
    private readonly Action<string>? _onLine;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];
    private int? _exitCode;

    private ChildProcess(string name, Process process, Action<string>? onLine)
    {
        Name = name;
        _process = process;
        _onLine = onLine;
        _process.OutputDataReceived += (_, e) => Received(e.Data, _stdout, _onLine);
        _process.ErrorDataReceived += (_, e) => Received(e.Data, _stderr, onLine: null);
    }

    /// <summary>What error messages call it ("metadata emulator"); the program's file name unless given.</summary>
    public string Name { get; }

    public int Id => _process.Id;

    // After disposal the Process object answers nothing; what it said last is kept.
    public bool HasExited => _exitCode is not null || _process.HasExited;

    public int ExitCode => _exitCode ?? _process.ExitCode;

    /// <summary>Every line the process wrote to stdout and stderr so far, in the order they arrived.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>What the process wrote to stdout so far, each line ended by <c>\n</c>; empty when it wrote nothing.</summary>
    public string Stdout
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>What the process wrote to stderr so far, each line ended by <c>\n</c>; empty when it wrote nothing.</summary>
    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <param name="program">An executable (a path, or a name looked up on the PATH), or a <c>.dll</c> to run with dotnet.</param>
    /// <param name="args">The arguments, each passed as it is (no shell).</param>
    /// <param name="environment">Variables to set on top of the inherited environment.</param>
    /// <param name="name">What messages call the process; the program's file name by default.</param>
    /// <param name="onLine">Sees each stdout line as it arrives.</param>
    public static ChildProcess Start(
        string program,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null,
        string? name = null,
        Action<string>? onLine = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        var isAssembly = program.EndsWith(".dll", StringComparison.Ordinal);
        var start = new ProcessStartInfo(isAssembly ? DotnetHost() : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Nothing the child reads comes from this terminal.
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in isAssembly ? [program, .. args] : args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var key in start.Environment.Keys.Where(key => key.StartsWith("TOKEN_INJECTOR_", StringComparison.Ordinal) || InheritedSettings.Contains(key)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(name ?? Path.GetFileName(program), process, onLine);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {child.Name}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary><see cref="Start"/> of an assembly next to this one (<c>injector.dll</c> next to the test assembly).</summary>
    public static ChildProcess StartAssembly(string assembly, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, assembly);
        return File.Exists(dll) ? Start(dll, args, environment) : throw new FileNotFoundException($"{assembly} is not next to {AppContext.BaseDirectory}", dll);
    }

    /// <summary>
    /// <see cref="Start"/>, then what the process did once it exited; killed, with a <see cref="TimeoutException"/>,
    /// when it has not after <paramref name="timeout"/> (<see cref="DefaultRunTimeout"/> unless given).
    /// </summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        ToExitAsync(Start(program, args, environment), timeout ?? DefaultRunTimeout);

    /// <summary><see cref="RunAsync"/> of <see cref="StartAssembly"/>.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAssemblyAsync(
        string assembly, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        ToExitAsync(StartAssembly(assembly, args, environment), timeout ?? DefaultRunTimeout);

    /// <summary>
    /// The first line, on stdout or stderr, that matches, once it is printed. Fails with a
    /// <see cref="ChildProcessException"/> when the process exits first, and with a <see cref="TimeoutException"/>
    /// after <paramref name="timeout"/>.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(match);
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_lines.FirstOrDefault(match) is { } seen)
            {
                return seen;
            }

            _waiters.Add((match, found));
        }

        try
        {
            // The exit is seen only once every line before it was read: a line printed just before exiting is found.
            await Task.WhenAny(found.Task, _process.WaitForExitAsync(cancellationToken)).WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} did not print the line awaited within {timeout.TotalSeconds:0} s");
        }
        finally
        {
            lock (_gate)
            {
                _waiters.RemoveAll(waiter => waiter.Found == found);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return found.Task.IsCompletedSuccessfully
            ? await found.Task
            : throw new ChildProcessException($"{Name} exited with code {ExitCode} before it printed the line awaited", this);
    }

    /// <summary>
    /// Until the process accepts TCP connections on 127.0.0.1:<paramref name="port"/>, for programs that say nothing
    /// when they listen. Fails as <see cref="WaitForLineAsync"/> does.
    /// </summary>
    public async Task WaitForPortAsync(int port, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
                return;
            }
            catch (SocketException) when (!HasExited && clock.Elapsed < timeout)
            {
                await Task.Delay(PollInterval, cancellationToken);
            }
            catch (SocketException) when (HasExited)
            {
                throw new ChildProcessException($"{Name} exited with code {ExitCode} before it listened on port {port}", this);
            }
            catch (SocketException)
            {
                throw new TimeoutException($"{Name} did not listen on port {port} within {timeout.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>Sends SIGTERM, as the kubelet does to stop a container; <see cref="WaitForExitAsync"/> sees the end.</summary>
    public Task TerminateAsync()
    {
        NativeSignals.Terminate(Id);
        return Task.CompletedTask;
    }

    /// <summary>Until the process exited and all it wrote was read; fails with a <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:0} s");
        }
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
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or a grandchild still holds its output open: nothing more to wait for.
        }
    }

    /// <summary>The last <paramref name="count"/> lines it printed (stdout and stderr), to explain a failure.</summary>
    public IReadOnlyList<string> RecentLines(int count = 20)
    {
        lock (_gate)
        {
            return _lines[Math.Max(0, _lines.Count - count)..];
        }
    }

    /// <summary>Kills whatever of its process tree still runs; what it printed and its exit code stay readable.</summary>
    public void Dispose()
    {
        if (_exitCode is not null)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }

            _exitCode = _process.HasExited ? _process.ExitCode : -1;
        }
        catch (InvalidOperationException)
        {
            // Never started.
            _exitCode = -1;
        }

        _process.Dispose();
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> ToExitAsync(ChildProcess process, TimeSpan timeout)
    {
        using (process)
        {
            await process.WaitForExitAsync(timeout);
            return (process.ExitCode, process.Stdout, process.Stderr);
        }
    }

    private static string DotnetHost()
    {
        // The dotnet that runs this process runs its children too (scripts start the demo as 'dotnet demo.dll').
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        return Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }

    private void Received(string? line, StringBuilder stream, Action<string>? onLine)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> matched;
        lock (_gate)
        {
            _lines.Add(line);
            stream.Append(line).Append('\n');
            matched = [.. _waiters.Where(waiter => waiter.Match(line)).Select(waiter => waiter.Found)];
        }

        foreach (var found in matched)
        {
            found.TrySetResult(line);
        }

        onLine?.Invoke(line);
    }
}
