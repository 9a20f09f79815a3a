using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TokenInjector.Bench.Load;
using TokenInjector.DevStack.Processes;

namespace TokenInjector.Bench.Running;

/// <summary>Polls an HTTP endpoint every millisecond until it answers 200, which is how start-up time is read.</summary>
internal static class Readiness
{
    public static async Task WaitForOkAsync(ChildProcess child, EndPoint endpoint, string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var request = Http1Connection.Get(path);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var connection = await Http1Connection.OpenAsync(endpoint, cancellationToken);
                if ((await connection.SendAsync(request, cancellationToken)).Status == 200)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                // Not listening yet.
            }

            if (child.HasExited)
            {
                throw new ChildProcessException($"{child.Name} exited with code {child.ExitCode} before {path} answered 200", child);
            }

            if (clock.Elapsed > timeout)
            {
                throw new ChildProcessException($"{child.Name}: {path} did not answer 200 within {timeout.TotalSeconds:0} s", child);
            }

            await Task.Delay(1, cancellationToken);
        }
    }
}
