using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using TokenInjector.SampleWorkload.Protos;

namespace TokenInjector.SampleWorkload.Client;

/// <summary>
/// The demo client: unary calls at a steady rate, one long-lived server-streaming call restarted whenever it ends,
/// a status line every second and a final summary. It holds no auth code at all: it dials the sidecar's plain
/// h2c listener, and the sidecar adds the ID token.
/// </summary>
internal sealed class EchoClientRunner(ClientOptions options, TextWriter output, TimeProvider time)
{
    // Unary calls still running when the run ends get this long to finish before they are abandoned.
    private static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StreamRetryDelay = TimeSpan.FromSeconds(1);
    private const int MaxInFlight = 256;

    private readonly TextWriter _output = TextWriter.Synchronized(output);
    private readonly CallStats _stats = new();
    private long _sequence;

    /// <summary>Runs until the duration passes or <paramref name="stop"/> fires; 0 when no call failed, else 1.</summary>
    public async Task<int> RunAsync(CancellationToken stop)
    {
        var started = time.GetTimestamp();
        // Plain http:// makes Grpc.Net.Client speak HTTP/2 with prior knowledge (h2c); no AppContext switch is
        // needed since .NET 5.
        using var channel = GrpcChannel.ForAddress(options.Target, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = SampleLimits.MaxMessageSize,
            MaxSendMessageSize = SampleLimits.MaxMessageSize,
            HttpHandler = new SocketsHttpHandler
            {
                // Fail fast when the sidecar is not listening rather than waiting out the call deadline.
                ConnectTimeout = TimeSpan.FromSeconds(5),
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            },
            DisposeHttpClient = true,
        });
        var client = new Echo.EchoClient(channel);

        var until = options.Duration is { } d ? string.Create(CultureInfo.InvariantCulture, $"for {d.TotalSeconds:0.#} s") : "until Ctrl-C";
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"calling {options.Target} at {options.Rate:0.##} calls/s plus a server stream ({options.StreamMessages} replies, {options.StreamIntervalMs} ms apart), {until}; no auth code here: the sidecar adds the ID token"));

        using var run = CancellationTokenSource.CreateLinkedTokenSource(stop);
        if (options.Duration is { } duration)
        {
            run.CancelAfter(duration);
        }

        using var drain = new CancellationTokenSource();
        using var reporterStop = new CancellationTokenSource();
        var reporter = ReportEverySecondAsync(started, reporterStop.Token);
        var stream = StreamLoopAsync(client, run.Token);
        var inFlight = await UnaryLoopAsync(client, drain.Token, run.Token);

        drain.CancelAfter(DrainTime);
        await Task.WhenAll(inFlight.Append(stream));
        await reporterStop.CancelAsync();
        await reporter;

        var final = _stats.Snapshot(resetErrors: false);
        WriteStatus(started, final);
        var identities = final.Identities.Count == 0 ? "-" : string.Join(',', final.Identities);
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"summary: ok={final.Ok} failed={final.AllFailed} streams_ok={final.StreamsOk} identities={identities}"));
        return final.AllFailed == 0 ? 0 : 1;
    }

    private async Task<List<Task>> UnaryLoopAsync(Echo.EchoClient client, CancellationToken drain, CancellationToken run)
    {
        var inFlight = new List<Task>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / options.Rate), time);
        try
        {
            do
            {
                inFlight.RemoveAll(task => task.IsCompleted);
                if (inFlight.Count >= MaxInFlight)
                {
                    _stats.CallSkipped();
                    continue;
                }

                inFlight.Add(UnaryCallAsync(client, drain));
            }
            while (await timer.WaitForNextTickAsync(run));
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            // The run is over; calls in flight are drained by the caller.
        }

        return inFlight;
    }

    private async Task UnaryCallAsync(Echo.EchoClient client, CancellationToken drain)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        try
        {
            using var call = client.UnaryAsync(
                new EchoRequest { Message = string.Create(CultureInfo.InvariantCulture, $"call {sequence}") },
                CustomHeaders(),
                deadline: time.GetUtcNow().UtcDateTime + options.CallTimeout,
                cancellationToken: drain);
            var reply = await call.ResponseAsync;
            _stats.CallSucceeded(reply.Caller);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && drain.IsCancellationRequested)
        {
            // Abandoned at shutdown: neither ok nor failed.
        }
        catch (RpcException ex)
        {
            _stats.CallFailed(Describe(ex));
        }
    }

    private async Task StreamLoopAsync(Echo.EchoClient client, CancellationToken run)
    {
        while (!run.IsCancellationRequested)
        {
            try
            {
                var request = new StreamRequest
                {
                    Message = "stream",
                    Count = options.StreamMessages,
                    IntervalMs = options.StreamIntervalMs,
                };
                // No deadline: the stream is meant to outlive token rotations; it ends when the server is done.
                using var call = client.ServerStream(request, CustomHeaders(), cancellationToken: run);
                await foreach (var reply in call.ResponseStream.ReadAllAsync(run))
                {
                    _stats.StreamMessage(reply.Caller);
                }

                _stats.StreamSucceeded();
            }
            catch (Exception ex) when (run.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                return;
            }
            catch (RpcException ex)
            {
                _stats.StreamFailed(Describe(ex));
                try
                {
                    await Task.Delay(StreamRetryDelay, time, run);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ReportEverySecondAsync(long started, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                WriteStatus(started, _stats.Snapshot(resetErrors: true));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The final line is written by RunAsync.
        }
    }

    private void WriteStatus(long started, CallStatsSnapshot s)
    {
        var elapsed = time.GetElapsedTime(started);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"[{elapsed.TotalSeconds,4:0}s] ok={s.Ok} failed={s.Failed} | streams ok={s.StreamsOk} failed={s.StreamsFailed} msgs={s.StreamMessages} | caller={s.LastEmail ?? "-"} | token exp={FormatExpiry(s.LastExpiry)}");
        if (s.Skipped > 0)
        {
            line += string.Create(CultureInfo.InvariantCulture, $" | skipped={s.Skipped} (service slower than --rate)");
        }

        if (s.RecentError is not null)
        {
            line += string.Create(CultureInfo.InvariantCulture, $" | {s.RecentErrors} error(s), last: {s.RecentError}");
        }

        _output.WriteLine(line);
    }

    private string FormatExpiry(DateTimeOffset? expiry)
    {
        if (expiry is not { } at)
        {
            return "-";
        }

        var left = at - time.GetUtcNow();
        return string.Create(CultureInfo.InvariantCulture, $"{at.UtcDateTime:HH:mm:ss}Z (in {Math.Max(0, left.TotalSeconds):0}s)");
    }

    // What the app itself sends: the service echoes it back, showing that the sidecar passes app metadata through.
    private static Metadata CustomHeaders() => new() { { "x-custom", "sample-workload" } };

    private static string Describe(RpcException ex)
    {
        // Errors from the sidecar carry a readable detail; a connection failure shows its inner exception instead.
        var detail = ex.Status.Detail;
        if (string.IsNullOrEmpty(detail) && ex.Status.DebugException is { } inner)
        {
            detail = inner.Message;
        }

        return $"{ex.StatusCode}: {detail}";
    }
}
