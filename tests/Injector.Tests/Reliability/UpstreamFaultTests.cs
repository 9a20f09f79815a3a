using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Grpc.Core;
using TokenInjector.DevStack.Certificates;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Cloud Run (the route's upstream) misbehaving: refusing connections, resetting them in the middle of streams,
/// never answering, or presenting a certificate the sidecar must not trust. A <see cref="TcpRelay"/> stands in
/// for the network between the sidecar and the Cloud Run emulator. Real time throughout.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
[Trait("Category", "Reliability")]
public sealed partial class UpstreamFaultTests
{
    // A failed call is "fast" when it ends well inside this, on a busy machine.
    private static readonly TimeSpan FastFailure = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task UpstreamRefusingConnections_CallsFailFastWithUnavailable_SucceedOnceItListens()
    {
        using var upstream = new TcpRelay();
        await using var run = await StartBehindAsync(upstream);
        await run.WarmUpAsync(withCall: false);

        var refusing = Stopwatch.StartNew();
        await run.LoadAsync(() => refusing.Elapsed > TimeSpan.FromSeconds(2));
        upstream.StartListening();
        var listening = run.Time.GetUtcNow();
        await run.LoadAsync(() => run.Attempts.Any(a => a.Kind == AttemptKind.Call && a.Ok && a.Started >= listening));

        var failedCalls = run.Attempts.Where(a => a.Kind == AttemptKind.Call && !a.Ok).ToList();
        var slowest = failedCalls.Select(a => a.Took).DefaultIfEmpty().Max();
        var recoveredIn = run.Attempts.Where(a => a.Kind == AttemptKind.Call && a.Ok).Select(a => (DateTimeOffset?)a.Ended).Min() - listening;
        var figures = await run.FiguresAsync();
        var passed = failedCalls.Count > 0 && failedCalls.All(a => a.Failure == "Unavailable") && slowest <= FastFailure
            && figures.FailedTokens == 0 && recoveredIn <= TimeSpan.FromSeconds(5) && figures.Running && figures.Leaks == 0;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Faults,
            "upstream refusing connections for 2 s",
            [
                .. figures.Lines,
                $"failed calls: all UNAVAILABLE: {(failedCalls.All(a => a.Failure == "Unavailable") ? "yes" : "NO")}",
                $"slowest failure: {FaultFigures.Seconds(slowest)}",
                $"recovered in: {FaultFigures.Seconds(recoveredIn)}",
            ],
            passed)
        {
            Note = "calls during the refusal cannot succeed (the failures are expected); the token API is unaffected",
        });

        figures.AssertNoCrashAndNoLeak();
        Assert.Equal(0, figures.FailedTokens);
        Assert.NotEmpty(failedCalls);
        Assert.All(failedCalls, a => Assert.Equal("Unavailable", a.Failure));
        Assert.True(slowest <= FastFailure, $"a refused call took {slowest}");
        Assert.True(recoveredIn <= TimeSpan.FromSeconds(5), $"recovered {recoveredIn} after the upstream listened again");
    }

    [Fact]
    public async Task UpstreamConnectionResetMidStream_StreamsEndWithAnError_NotAHang_LaterCallsSucceed()
    {
        using var upstream = new TcpRelay();
        upstream.StartListening();
        await using var run = await StartBehindAsync(upstream);
        await run.WarmUpAsync();

        using var serverStream = run.Client.ServerStream(new StreamRequest { Message = "s", Count = 100_000, IntervalMs = 10 }, deadline: TestWait.Deadline());
        using var bidi = run.Client.Bidi(deadline: TestWait.Deadline());
        for (var i = 0; i < 5; i++)
        {
            Assert.True(await serverStream.ResponseStream.MoveNext().Bounded());
            await bidi.RequestStream.WriteAsync(new EchoRequest { Message = "b" + i }).Bounded();
            Assert.True(await bidi.ResponseStream.MoveNext().Bounded());
        }

        var reset = Stopwatch.StartNew();
        upstream.ResetConnections();
        var serverStreamEnd = await EndOfStreamAsync(async () =>
        {
            while (await serverStream.ResponseStream.MoveNext())
            {
            }
        });
        var serverStreamTook = reset.Elapsed;
        var bidiEnd = await EndOfStreamAsync(async () =>
        {
            while (await bidi.ResponseStream.MoveNext())
            {
            }
        });
        var bidiTook = reset.Elapsed;
        foreach (var error in new[] { serverStreamEnd, bidiEnd }.OfType<RpcException>())
        {
            run.NoteError(error);
        }

        var afterReset = run.Time.GetUtcNow();
        await run.LoadAsync(() => run.Attempts.Count(a => a.Kind == AttemptKind.Call && a.Started >= afterReset) >= 20);
        var figures = await run.FiguresAsync();
        var cleanErrors = new[] { serverStreamEnd, bidiEnd }.All(e => e is RpcException { StatusCode: StatusCode.Unavailable });
        var passed = cleanErrors && serverStreamTook <= FastFailure && bidiTook <= FastFailure
            && figures.FailedCalls == 0 && figures.FailedTokens == 0 && figures.Running && figures.Leaks == 0;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Faults,
            "upstream connection reset in the middle of a server stream and a bidi stream",
            [
                .. figures.Lines,
                $"server stream ended with: {Describe(serverStreamEnd)} after {FaultFigures.Seconds(serverStreamTook)}",
                $"bidi stream ended with: {Describe(bidiEnd)} after {FaultFigures.Seconds(bidiTook)}",
            ],
            passed)
        {
            Note = "both streams were cut by the reset (not counted as failed calls); the 20 unary calls after it all succeeded",
        });

        figures.AssertNoCrashAndNoLeak();
        Assert.True(cleanErrors, $"server stream: {Describe(serverStreamEnd)}; bidi: {Describe(bidiEnd)}");
        Assert.True(serverStreamTook <= FastFailure && bidiTook <= FastFailure, $"streams ended {serverStreamTook} and {bidiTook} after the reset");
        Assert.Equal(0, figures.FailedCalls);
        Assert.Equal(0, figures.FailedTokens);
    }

    [Fact]
    public async Task HangingUpstream_CallsEndAtTheirDeadline_OtherCallsServed_NothingLeftInFlight()
    {
        await using var run = await SidecarUnderFault.StartAsync(TimeProvider.System, TimeSpan.FromHours(1));
        await run.WarmUpAsync();
        const int Hanging = 20;
        var deadline = TimeSpan.FromSeconds(1);
        var countedBefore = ProxiedRequests(await run.Sidecar.MetricsAsync(), run.Stack.RoutePort);

        var hanging = Enumerable.Range(0, Hanging)
            .Select(_ => run.CallAsync(DateTime.UtcNow + deadline, new EchoRequest { Message = "hang", DelayMs = 600_000 }))
            .ToList();
        await run.LoadAsync(() => hanging.All(h => h.IsCompleted));
        var ends = await Task.WhenAll(hanging).Bounded();
        var slowest = ends.Max(a => a.Took);
        var calls = run.Attempts.Count(a => a.Kind == AttemptKind.Call);

        // A request is counted in the proxy metrics when its handler returns: every call counted means none is left in flight.
        var counted = 0;
        await TestWait.PollAsync(
            async () => (counted = ProxiedRequests(await run.Sidecar.MetricsAsync(), run.Stack.RoutePort) - countedBefore) >= calls,
            TimeSpan.FromMilliseconds(20));

        var figures = await run.FiguresAsync();
        var otherFailures = figures.FailedCalls - ends.Count(a => !a.Ok);
        var passed = ends.All(a => a.Failure == "DeadlineExceeded") && slowest <= deadline + FastFailure && otherFailures == 0
            && counted == calls && figures.FailedTokens == 0 && figures.Running && figures.Leaks == 0;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Faults,
            $"upstream never answering {Hanging} calls (1 s deadlines)",
            [
                .. figures.Lines,
                $"hanging calls ended DEADLINE_EXCEEDED: {ends.Count(a => a.Failure == "DeadlineExceeded")} of {Hanging}, the slowest after {FaultFigures.Seconds(slowest)}",
                $"other calls failed meanwhile: {otherFailures}",
                $"proxied requests finished in the sidecar: {counted} of {calls}",
            ],
            passed)
        {
            Note = "the hanging calls are the fault (their failures are expected); the other callers kept being served",
        });

        figures.AssertNoCrashAndNoLeak();
        Assert.All(ends, a => Assert.Equal("DeadlineExceeded", a.Failure));
        Assert.True(slowest <= deadline + FastFailure, $"a hanging call took {slowest}");
        Assert.Equal(0, otherFailures);
        Assert.Equal(calls, counted);
    }

    [Theory]
    [InlineData("untrusted certificate")]
    [InlineData("wrong host name")]
    public async Task TlsFailure_CallsFailUnavailable_NothingReachesTheService(string failure)
    {
        using var otherAuthority = DevCertificateAuthority.Create("some other CA");
        await using var run = await SidecarUnderFault.StartAsync(TimeProvider.System, TimeSpan.FromHours(1), route: stack => failure == "wrong host name"
            ? stack.RouteArgs(host: "other-svc-abc123-uc.a.run.app")
            : [.. stack.RouteArgs().SkipLast(2), "--upstream-ca-file", otherAuthority.WriteCaPem(stack.Directory.Path, "other-ca.pem")]);
        await run.WarmUpAsync(withCall: false);

        var watch = Stopwatch.StartNew();
        await run.LoadAsync(() => watch.Elapsed > TimeSpan.FromSeconds(1));

        var figures = await run.FiguresAsync();
        var failedCalls = run.Attempts.Where(a => a.Kind == AttemptKind.Call).ToList();
        var stats = run.Stack.CloudRun.Stats;
        var reached = stats.Accepted + stats.Rejected;
        var allUnavailable = failedCalls.All(a => a.Failure == "Unavailable");
        var passed = allUnavailable && reached == 0 && figures.FailedTokens == 0 && figures.Running && figures.Leaks == 0;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Faults,
            $"TLS failure: {failure}",
            [.. figures.Lines, $"calls failed UNAVAILABLE: {failedCalls.Count(a => a.Failure == "Unavailable")} of {failedCalls.Count}", $"requests that reached the service: {reached}"],
            passed)
        {
            Note = "every call is refused before a request is written, so no token leaves over a failed handshake",
        });

        figures.AssertNoCrashAndNoLeak();
        Assert.NotEmpty(failedCalls);
        Assert.All(failedCalls, a => Assert.Equal("Unavailable", a.Failure));
        Assert.Equal(0, reached);
        Assert.Equal(0, figures.FailedTokens);
    }

    // The sidecar's route goes through the relay to the Cloud Run emulator, so the test can cut the network between them.
    private static Task<SidecarUnderFault> StartBehindAsync(TcpRelay relay) =>
        SidecarUnderFault.StartAsync(TimeProvider.System, TimeSpan.FromHours(1), route: stack =>
        {
            relay.Target = new IPEndPoint(IPAddress.Loopback, stack.CloudRun.Port);
            return stack.RouteArgs(port: relay.Port);
        });

    private static async Task<Exception?> EndOfStreamAsync(Func<Task> readToTheEnd)
    {
        try
        {
            await readToTheEnd().Bounded();
            return null;
        }
        catch (Exception ex) when (ex is RpcException or TimeoutException)
        {
            return ex;
        }
    }

    private static string Describe(Exception? end) => end switch
    {
        null => "a normal end (the reset went unnoticed)",
        RpcException rpc => rpc.StatusCode.ToString(),
        _ => "no end: " + end.GetType().Name,
    };

    private static int ProxiedRequests(string metrics, int routePort) => ProxyRequestsLine().Matches(metrics)
        .Where(m => m.Groups["route"].Value == routePort.ToString(CultureInfo.InvariantCulture))
        .Sum(m => int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex("""^token_injector_proxy_requests_total\{route="(?<route>\d+)",code="[^"]*"\} (?<count>\d+)$""", RegexOptions.Multiline)]
    private static partial Regex ProxyRequestsLine();
}
