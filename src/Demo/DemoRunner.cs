using System.Diagnostics;
using System.Globalization;
using TokenInjector.Demo.Observing;
using TokenInjector.DevCommandLine;
using TokenInjector.DevStack.Network;
using TokenInjector.DevStack.Processes;
using TokenInjector.DevStack.Stack;

namespace TokenInjector.Demo;

/// <summary>
/// Runs the whole picture on loopback, each part its own process as in a pod: the metadata emulator (Workload
/// Identity's token endpoint, short-lived tokens), the sample service behind the Cloud Run emulator (TLS with a
/// throwaway CA, ID token check), <c>injector sidecar</c> with one route, and the sample client, which has no auth
/// code and dials the route. Watches them once a second, then stops everything and removes its files.
/// </summary>
internal sealed class DemoRunner(DemoOptions options, DevPrograms programs, TextWriter output)
{
    public const string ServiceHost = "demo-service-abc123-uc.a.run.app";
    public const string ServiceAccount = "demo-app@demo-project.iam.gserviceaccount.com";

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ClientSummaryGrace = TimeSpan.FromSeconds(4);

    private volatile ClientStatus? _clientStatus;
    private volatile ClientSummary? _clientSummary;

    /// <summary>0 when the client saw no failed call and the sidecar refreshed its token at least once.</summary>
    public async Task<int> RunAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        SidecarReading? lastReading = null;
        long? issuedByMetadata = null;
        string? problem = null;
        ChildProcess? client = null;
        LocalStack? stack = null;
        try
        {
            var stackOptions = new StackOptions
            {
                ServiceHost = ServiceHost,
                ServiceAccount = ServiceAccount,
                TokenLifetime = options.TokenLifetime,
                Invokers = [ServiceAccount],
                DirectoryPrefix = "token-injector-demo-",
            };
            stack = await LocalStack.StartProcessesAsync(stackOptions, programs, stop);
            var serviceUrl = stackOptions.ServiceUrl;
            output.WriteLine($"work directory {stack.Directory.Path} (removed at the end); test CA and a certificate for {ServiceHost} made");
            output.WriteLine($"started  metadata emulator   http://{stack.MetadataHostAndPort}  (stands in for the GKE metadata server; ID tokens live {options.TokenLifetime.TotalSeconds:0.###} s, for {ServiceAccount})");
            output.WriteLine($"started  sample service      h2c on port {stack.Upstream.Port}  (the gRPC echo service you would deploy on Cloud Run)");
            output.WriteLine($"started  cloud-run emulator  {serviceUrl} at 127.0.0.1:{stack.CloudRunPort}  (TLS; 401 without a valid ID token for {serviceUrl})");

            var routePort = FreePort.Next();
            var sidecar = stack.Track(await SidecarProcess.StartAsync(
                stack.Sidecar(programs.Injector, [.. stack.RouteArgs(routePort), "--drain-timeout", "5s"], "token.sock"), LocalStack.StartTimeout, stop));
            using var probe = new SidecarProbe(sidecar.Admin, sidecar.SocketPath, stack.MetadataAddress, serviceUrl);
            output.WriteLine($"started  injector sidecar    route 127.0.0.1:{routePort} -> {serviceUrl}, token socket {sidecar.SocketPath}, admin http://{sidecar.Admin}  (ready: /readyz is 200)");
            if (await probe.ReadSocketTokenAsync(stop) is { } first)
            {
                output.WriteLine($"token from the socket (claims only; a token is never printed): {first.Describe()}");
            }

            client = stack.Track(ChildProcess.Start(
                programs.SampleWorkload,
                ["client", "--duration", DevOptions.Format(options.Duration), "--rate", Invariant(options.Rate)],
                new Dictionary<string, string> { [$"TOKEN_INJECTOR_ROUTE_{routePort}"] = $"http://127.0.0.1:{routePort}" },
                "sample client",
                OnClientLine));
            output.WriteLine($"started  sample client       TOKEN_INJECTOR_ROUTE_{routePort}=http://127.0.0.1:{routePort}, {Invariant(options.Rate)} calls/s and a server stream for {options.Duration.TotalSeconds:0} s; no auth code in it");
            output.WriteLine();
            output.WriteLine(LiveView.Header);

            (lastReading, issuedByMetadata) = await WatchAsync(client, probe, clock, stop);
            if (!client.HasExited)
            {
                output.WriteLine(stop.IsCancellationRequested ? "stopping: waiting for the client's summary" : "the client did not finish in time; stopping it");
                await StopClientAsync(client, interrupted: stop.IsCancellationRequested);
            }
            else
            {
                await client.WaitForExitAsync(StopGrace, CancellationToken.None);
            }

            // The last word on tokens, read after the client is done and before the sidecar stops.
            lastReading = await probe.ReadMetricsAsync(CancellationToken.None) ?? lastReading;
            issuedByMetadata = await probe.ReadMetadataIdentityRequestsAsync(CancellationToken.None) ?? issuedByMetadata;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            problem = "interrupted before the client started";
        }
        catch (ChildProcessException ex)
        {
            problem = ex.Message;
            ShowRecentLines(ex.Child);
        }
        catch (TimeoutException ex)
        {
            problem = ex.Message;
            foreach (var child in stack?.Processes.Where(c => !c.HasExited) ?? [])
            {
                ShowRecentLines(child);
            }
        }
        finally
        {
            if (stack is not null)
            {
                await stack.DisposeAsync();
            }
        }

        return Summarize(clock.Elapsed, lastReading, issuedByMetadata, client, problem);
    }

    private async Task<(SidecarReading? Reading, long? Issued)> WatchAsync(ChildProcess client, SidecarProbe probe, Stopwatch clock, CancellationToken stop)
    {
        SidecarReading? reading = null;
        long? issued = null;
        DateTimeOffset? shownExpiry = null;
        var deadline = options.Duration + TimeSpan.FromSeconds(30);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop) && !client.HasExited && clock.Elapsed < deadline)
            {
                reading = await probe.ReadMetricsAsync(stop) ?? reading;
                issued = await probe.ReadMetadataIdentityRequestsAsync(stop) ?? issued;
                if (await probe.ReadSocketTokenAsync(stop) is { } claims && claims.ExpiresAt != shownExpiry)
                {
                    if (shownExpiry is not null)
                    {
                        output.WriteLine($"        new token from the socket: {claims.Describe()}");
                    }

                    shownExpiry = claims.ExpiresAt;
                }

                output.WriteLine(LiveView.Row(clock.Elapsed, _clientStatus, reading, DateTimeOffset.UtcNow));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ctrl-C: the caller stops the client, which prints its summary.
        }

        return (reading, issued);
    }

    /// <summary>
    /// Ctrl-C in a terminal reaches the whole process group, so the client usually has its SIGINT already and is
    /// writing its summary: a second signal would kill it on the spot (its own rule), so it gets a moment first.
    /// </summary>
    private static async Task StopClientAsync(ChildProcess client, bool interrupted)
    {
        if (interrupted)
        {
            try
            {
                await client.WaitForExitAsync(ClientSummaryGrace, CancellationToken.None);
                return;
            }
            catch (TimeoutException)
            {
                // Only the demo was signalled (kill PID): ask the client itself.
            }
        }

        await client.StopAsync(StopGrace);
    }

    private int Summarize(TimeSpan elapsed, SidecarReading? reading, long? issuedByMetadata, ChildProcess? client, string? problem)
    {
        var summary = _clientSummary;
        var status = _clientStatus;
        var refreshes = reading is null ? 0 : LiveView.Refreshes(reading.SuccessfulFetches);
        var failed = summary?.Failed ?? (status is null ? 0 : status.Failed + status.StreamsFailed);
        output.WriteLine();
        output.WriteLine("summary");
        if (summary is not null)
        {
            output.WriteLine($"  calls            ok={summary.Ok} unary calls and {summary.StreamsOk} server streams completed; failed={summary.Failed} (unary and streaming)");
            output.WriteLine($"  service saw      {(summary.Identities.Count == 0 ? "-" : string.Join(", ", summary.Identities))}");
        }
        else if (status is not null)
        {
            output.WriteLine($"  calls            ok={status.Ok} failed={failed} (the client printed no summary)");
        }
        else
        {
            output.WriteLine("  calls            none made");
        }

        var fetches = reading is null ? "-" : Invariant((long)reading.SuccessfulFetches);
        output.WriteLine($"  tokens           refreshes={refreshes} (fetches={fetches}: one at start, then one per refresh; failed fetches={(reading is null ? "-" : Invariant((long)reading.FailedFetches))})");
        if (issuedByMetadata is { } issued)
        {
            output.WriteLine($"  metadata server  issued {issued} ID token(s) for all those calls: the sidecar caches and refreshes, it does not fetch per call");
        }

        output.WriteLine($"  processes        all stopped; work directory and socket removed; {elapsed.TotalSeconds:0} s in all");
        var success = problem is null && summary is not null && failed == 0 && refreshes >= 1 && client is { HasExited: true, ExitCode: 0 };
        var verdict = success
            ? "PASS: no failed call, and the token was refreshed while the calls went on"
            : "FAIL: " + (problem ?? Reason(summary, failed, refreshes));
        output.WriteLine($"  result           {verdict}");
        return success ? 0 : 1;
    }

    private static string Reason(ClientSummary? summary, long failed, long refreshes) =>
        summary is null ? "the client printed no summary"
        : failed > 0 ? $"{failed} call(s) failed"
        : refreshes < 1 ? "no token refresh happened during the run (run longer, or use a shorter --token-lifetime)"
        : "the client exited with an error";

    private void OnClientLine(string line)
    {
        if (ClientOutput.TryParseStatus(line, out var status))
        {
            _clientStatus = status;
        }
        else if (ClientOutput.TryParseSummary(line, out var summary))
        {
            _clientSummary = summary;
        }
    }

    private void ShowRecentLines(ChildProcess child)
    {
        output.WriteLine($"last lines of {child.Name}:");
        foreach (var line in child.RecentLines())
        {
            output.WriteLine("  | " + line);
        }
    }

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);
}
