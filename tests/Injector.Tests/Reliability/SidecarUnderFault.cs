using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TokenInjector.Emulators.Metadata;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// An in-process sidecar with one route to the Cloud Run emulator, logging everything at debug level into a
/// <see cref="LogCapture"/>, and a load that keeps asking its token API and calling through its route while a test
/// breaks something. Every attempt is kept (when it started and ended, on the stack's clock, how long it took in
/// real time, and how it ended), so a scenario can count failures in any window, find the first success after a
/// fault ended, and scan every error text for tokens.
/// </summary>
internal sealed partial class SidecarUnderFault : IAsyncDisposable
{
    public const string Audience = CloudRunStack.ServiceUrl;

    private readonly ConcurrentQueue<Attempt> _attempts = new();
    private readonly ConcurrentQueue<string> _errorTexts = new();
    private readonly GrpcChannel _channel;
    private IdToken? _latestToken;

    private SidecarUnderFault(CloudRunStack stack, RunningSidecar sidecar, LogCapture logs)
    {
        Stack = stack;
        Sidecar = sidecar;
        Logs = logs;
        _channel = stack.RouteChannel();
        Client = new Echo.EchoClient(_channel);
    }

    public CloudRunStack Stack { get; }

    public RunningSidecar Sidecar { get; }

    public LogCapture Logs { get; }

    public Echo.EchoClient Client { get; }

    public TimeProvider Time => Stack.Time;

    public MetadataEmulator Metadata => Stack.Metadata;

    /// <summary>The last token the token API handed out.</summary>
    public IdToken? LatestToken => Volatile.Read(ref _latestToken);

    public IReadOnlyList<Attempt> Attempts => [.. _attempts];

    /// <summary>
    /// Starts the emulators on <paramref name="time"/> and a sidecar with the route <paramref name="route"/> gives
    /// (by default, straight to the Cloud Run emulator) plus <paramref name="args"/>, logging at debug level.
    /// </summary>
    public static async Task<SidecarUnderFault> StartAsync(
        TimeProvider time,
        TimeSpan tokenLifetime,
        IEnumerable<string>? args = null,
        Func<CloudRunStack, IEnumerable<string>>? route = null,
        Action<MetadataEmulatorOptions>? metadata = null)
    {
        var stack = await CloudRunStack.StartAsync(time, tokenLifetime, metadata);
        try
        {
            var logs = new LogCapture();
            var sidecar = await stack.StartSidecarAsync(
                [.. (route ?? (s => s.RouteArgs()))(stack), "--log-level", "debug", .. args ?? []], logs);
            return new SidecarUnderFault(stack, sidecar, logs);
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits until the token API has answered with a token and, unless <paramref name="withCall"/> is false (the
    /// route is broken on purpose), a call through the route has succeeded, which also gives the Cloud Run emulator
    /// its signing keys, fetched from the metadata emulator that a fault may stop. Then forgets those attempts: a
    /// scenario counts from here. Returns the token.
    /// </summary>
    public async Task<IdToken> WarmUpAsync(bool withCall = true)
    {
        await TestWait.UntilAsync(async () => (await AskTokenAsync()).Ok && (!withCall || (await CallAsync()).Ok), TimeSpan.FromMilliseconds(20));
        _attempts.Clear();
        return LatestToken!;
    }

    /// <summary>Token fetches the sidecar has made for <see cref="Audience"/>, whatever their result (from /metrics).</summary>
    public async Task<int> FetchAttemptsAsync() => RefreshCounter().Matches(await Sidecar.MetricsAsync())
        .Where(m => m.Groups["audience"].Value == Audience)
        .Sum(m => int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture));

    /// <summary>One token API request, recorded. A token already past its expiry counts as a failure of its own.</summary>
    public async Task<Attempt> AskTokenAsync()
    {
        var started = Time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        using var response = await Sidecar.GetTokenAsync(Audience);
        var body = await response.Content.ReadAsStringAsync();
        var ended = Time.GetUtcNow();
        string? failure = null;
        IdToken? token = null;
        if (response.StatusCode == HttpStatusCode.OK)
        {
            token = IdToken.Parse(body);
            Volatile.Write(ref _latestToken, token);
            if (token.ExpiresAt <= ended)
            {
                failure = Failures.ExpiredToken;
            }
        }
        else
        {
            var retryAfter = response.Headers.RetryAfter?.Delta;
            failure = response.StatusCode == HttpStatusCode.ServiceUnavailable && retryAfter is null
                ? Failures.NoRetryAfter
                : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            _errorTexts.Enqueue($"{(int)response.StatusCode} Retry-After: {retryAfter} {body}");
        }

        return Record(new Attempt(AttemptKind.Token, started, ended, watch.Elapsed, failure) { TokenExpiresAt = token?.ExpiresAt });
    }

    /// <summary>One proxied unary call, recorded with its gRPC status when it fails.</summary>
    public async Task<Attempt> CallAsync(DateTime? deadline = null, EchoRequest? request = null)
    {
        var started = Time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        string? failure = null;
        try
        {
            await Client.UnaryAsync(request ?? new EchoRequest { Message = "probe" }, deadline: deadline ?? TestWait.Deadline());
        }
        catch (RpcException ex)
        {
            failure = ex.StatusCode.ToString();
            NoteError(ex);
        }

        return Record(new Attempt(AttemptKind.Call, started, Time.GetUtcNow(), watch.Elapsed, failure));
    }

    /// <summary>Keeps the error text of a failed call for the leak scan.</summary>
    public void NoteError(RpcException error) => _errorTexts.Enqueue($"{error.StatusCode} {error.Status.Detail} {error.Trailers}");

    /// <summary>
    /// Token requests and proxied calls, <paramref name="callers"/> of each kind, back to back (with a short pause)
    /// until <paramref name="done"/> says so; each loop is bounded by the test time limit.
    /// </summary>
    public Task LoadAsync(Func<bool> done, int callers = 1)
    {
        async Task LoopAsync(Func<Task<Attempt>> attempt)
        {
            if (!done())
            {
                await TestWait.UntilAsync(
                    async () =>
                    {
                        await attempt();
                        return done();
                    },
                    TimeSpan.FromMilliseconds(20));
            }
        }

        return Task.WhenAll(Enumerable.Range(0, callers).SelectMany(_ => new[] { LoopAsync(AskTokenAsync), LoopAsync(() => CallAsync()) }));
    }

    /// <summary>Load until the stack's clock reaches <paramref name="until"/>.</summary>
    public Task LoadUntilAsync(DateTimeOffset until, int callers = 1) => LoadAsync(() => Time.GetUtcNow() >= until, callers);

    /// <summary>The host has not stopped and /healthz answers.</summary>
    public async Task<bool> IsRunningAsync()
    {
        if (Sidecar.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested)
        {
            return false;
        }

        using var health = await Sidecar.AdminClient.GetAsync("/healthz").Bounded();
        return health.StatusCode == HttpStatusCode.OK;
    }

    /// <summary>Everything that must never hold a token: the debug log, /metrics, and every error answer seen.</summary>
    public async Task<string> TextThatMustHoldNoTokenAsync() =>
        string.Join('\n', Logs.Text, await Sidecar.MetricsAsync(), string.Join('\n', _errorTexts));

    /// <summary>The figures every fault reports: failures per kind, crash, token leaks.</summary>
    public async Task<FaultFigures> FiguresAsync()
    {
        var attempts = Attempts;
        var text = await TextThatMustHoldNoTokenAsync();
        return new FaultFigures(
            attempts.Count(a => a.Kind == AttemptKind.Token && !a.Ok),
            attempts.Count(a => a.Kind == AttemptKind.Token),
            attempts.Count(a => a.Kind == AttemptKind.Call && !a.Ok),
            attempts.Count(a => a.Kind == AttemptKind.Call),
            string.Join(", ", attempts.Where(a => !a.Ok).GroupBy(a => a.Failure).Select(g => $"{g.Key} x{g.Count()}")),
            await IsRunningAsync(),
            TokenLeakScanner.CountLeaks(text),
            TokenLeakScanner.Describe(text, "logs, metrics and error answers"));
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await Stack.DisposeAsync();
        Logs.Dispose();
    }

    [GeneratedRegex("""^token_injector_token_refresh_total\{audience="(?<audience>[^"]*)",result="[^"]*"\} (?<count>\d+)$""", RegexOptions.Multiline)]
    private static partial Regex RefreshCounter();

    private Attempt Record(Attempt attempt)
    {
        _attempts.Enqueue(attempt);
        return attempt;
    }

    /// <summary>Failure labels that are not a status code.</summary>
    public static class Failures
    {
        public const string ExpiredToken = "expired token served";
        public const string NoRetryAfter = "503 without Retry-After";
    }
}

internal enum AttemptKind
{
    Token,
    Call,
}

/// <summary>One token request or proxied call: when it started and ended on the stack's clock, its real duration, and its failure (null when it succeeded).</summary>
internal sealed record Attempt(AttemptKind Kind, DateTimeOffset Started, DateTimeOffset Ended, TimeSpan Took, string? Failure)
{
    public bool Ok => Failure is null;

    /// <summary>The expiry of the token a token request received.</summary>
    public DateTimeOffset? TokenExpiresAt { get; init; }
}

/// <summary>The figures every fault scenario reports.</summary>
internal sealed record FaultFigures(
    int FailedTokens, int Tokens, int FailedCalls, int Calls, string FailureKinds, bool Running, int Leaks, string LeakDescription)
{
    public IEnumerable<string> Lines =>
    [
        $"failed token requests: {FailedTokens} of {Tokens}",
        $"failed calls: {FailedCalls} of {Calls}" + (FailureKinds.Length == 0 ? string.Empty : $" ({FailureKinds})"),
        Running ? "crash: no" : "crash: YES",
        $"token leaks: {Leaks}",
    ];

    /// <summary>The bar every fault shares: the sidecar still runs and no token showed anywhere.</summary>
    public void AssertNoCrashAndNoLeak()
    {
        Assert.True(Leaks == 0, LeakDescription);
        Assert.True(Running, "the sidecar stopped");
    }

    public static string Seconds(TimeSpan? span) =>
        span is { } value ? string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.00} s") : "never";
}
