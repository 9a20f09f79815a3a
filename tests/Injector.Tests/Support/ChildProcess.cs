using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TokenInjector.Tests.Support;

/// <summary>
/// An executable run as a real child process, the one way the tests start one: stdout and stderr are kept apart and
/// also as one stream of lines, lines can be awaited, it can be sent SIGTERM, every wait is bounded by
/// <see cref="TestWait.Limit"/>, and disposing kills whatever of its process tree still runs.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];
    private readonly Lock _gate = new();

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Add(e.Data, _stdout);
        _process.ErrorDataReceived += (_, e) => Add(e.Data, _stderr);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    public bool HasExited => _process.HasExited;

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

    /// <param name="executable">A path, or a name looked up on the PATH.</param>
    /// <param name="args">The arguments, each passed as it is (no shell).</param>
    /// <param name="environment">Variables to set on top of the inherited environment.</param>
    /// <param name="unset">Which inherited variables, by name, the process must not see.</param>
    public static ChildProcess Start(
        string executable, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, Func<string, bool>? unset = null)
    {
        var start = new ProcessStartInfo(executable, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var name in start.Environment.Keys.Where(unset ?? (_ => false)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start"));
    }

    /// <summary>
    /// A built executable of the solution (<c>injector.dll</c>, <c>emulators.dll</c>, ...), next to the test
    /// assembly, run with <c>dotnet</c>; otherwise as <see cref="Start"/>.
    /// </summary>
    public static ChildProcess StartAssembly(
        string assembly, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, Func<string, bool>? unset = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, assembly);
        Assert.True(File.Exists(dll), $"{dll} not found next to the test assembly");
        return Start(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", [dll, .. args], environment, unset);
    }

    /// <summary><see cref="Start"/>, then what the process did once it exited (bounded; killed if it does not).</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string executable, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, Func<string, bool>? unset = null) =>
        ToExitAsync(Start(executable, args, environment, unset));

    /// <summary><see cref="StartAssembly"/>, then what the process did once it exited (bounded; killed if it does not).</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAssemblyAsync(
        string assembly, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, Func<string, bool>? unset = null) =>
        ToExitAsync(StartAssembly(assembly, args, environment, unset));

    /// <summary>The first line, on stdout or stderr, that matches; bounded.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        lock (_gate)
        {
            foreach (var line in _lines)
            {
                if (match(line))
                {
                    return Task.FromResult(line);
                }
            }

            var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, found));
            return found.Task.Bounded();
        }
    }

    /// <summary>Sends SIGTERM, as the kubelet does to stop a container.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Start("kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Until the process exited and all it wrote was read; bounded.</summary>
    public Task WaitForExitAsync() => _process.WaitForExitAsync().Bounded();

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> ToExitAsync(ChildProcess process)
    {
        using (process)
        {
            await process.WaitForExitAsync();
            return (process.ExitCode, process.Stdout, process.Stderr);
        }
    }

    private void Add(string? line, StringBuilder stream)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
            stream.Append(line).Append('\n');
            foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
            {
                waiter.Found.TrySetResult(line);
                _waiters.Remove(waiter);
            }
        }
    }
}
