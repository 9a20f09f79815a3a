using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Grpc.Core;
using k8s.Models;
using TokenInjector.DevStack.Stack;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;
using TokenInjector.Tests.Webhook;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// The soak: the built sidecar as a child process (so /proc measures it alone) under mixed load for a while, with
/// 20 s tokens so that it refreshes every few seconds: token API requests, unary calls, server streams and bidi
/// streams through a route to the in-process emulators. It passes with no failed call, resident memory flat after
/// warm-up (the largest sample of the last tenth, at least 10 s, at most 10% above the sample at the end of the
/// first fifth, at least 30 s: minute 2 and the last minute of a 10-minute run), open descriptors stable, and no
/// token in the sidecar's debug log, its metrics or any error. The sidecar is the JIT build next to the tests, or the
/// NativeAOT executable the image ships (<see cref="SidecarBuild.NativeAot"/>).
/// </summary>
internal static class MixedLoadSoak
{
    public const string MinutesVariable = "TOKEN_INJECTOR_SOAK_MINUTES";

    /// <summary>The published NativeAOT <c>injector</c> to soak; scripts/reliability --soak publishes it and sets this.</summary>
    public const string NativeAotVariable = "TOKEN_INJECTOR_SOAK_NATIVE_SIDECAR";
    private const double MaxMemoryGrowth = 0.10;
    private const int DescriptorSlack = 5;
    private const int MessagesPerStream = 20;

    // A .NET process's heap and JIT keep growing for its first half minute of load, whatever the run's length.
    private static readonly TimeSpan MinWarmUp = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MinTail = TimeSpan.FromSeconds(10);

    /// <summary>The soak's length: <see cref="MinutesVariable"/> minutes (10 when unset).</summary>
    public static TimeSpan ConfiguredDuration() =>
        TimeSpan.FromMinutes(double.TryParse(Environment.GetEnvironmentVariable(MinutesVariable), NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes) && minutes > 0 ? minutes : 10);

    public static async Task RunAsync(string scenario, TimeSpan duration, SidecarBuild? build = null)
    {
        build ??= SidecarBuild.Jit;
        await using var stack = await CloudRunStack.StartAsync(tokenLifetime: TimeSpan.FromSeconds(20));
        var launch = stack.Sidecar([.. stack.RouteArgs(), "--log-level", "debug"]) with { Injector = build.Executable, Environment = build.Environment };
        using var sidecar = SidecarProcess.Launch(launch);
        IPEndPoint adminEndpoint;
        try
        {
            adminEndpoint = await SidecarProcess.WaitForAdminEndpointAsync(sidecar, TestWait.Limit);
            await sidecar.WaitForLineAsync(line => line.Contains("New token for", StringComparison.Ordinal));
        }
        catch (TimeoutException)
        {
            // Before its first token the sidecar's output holds none: it is safe to show why it did not start.
            throw new TimeoutException("the sidecar process did not get ready; its output:\n" + sidecar.Output);
        }

        using var admin = new HttpClient { BaseAddress = new Uri($"http://{adminEndpoint}/"), Timeout = TestWait.Limit };
        using var tokenApi = LoopbackHttp.UnixSocketClient(launch.SocketPath!, TestWait.Limit);
        using var channel = stack.RouteChannel();
        var client = new Echo.EchoClient(channel);

        var load = new Load(client, tokenApi);
        var watch = Stopwatch.StartNew();
        bool Done() => watch.Elapsed >= duration;
        var samples = new List<(TimeSpan At, ProcessFootprint Footprint)>();
        var sampleEvery = TimeSpan.FromSeconds(Math.Min(10, duration.TotalSeconds / 15));
        async Task SampleAsync()
        {
            while (!Done())
            {
                samples.Add((watch.Elapsed, ProcessFootprint.Of(sidecar.Id)));
                await Task.Delay(sampleEvery);
            }

            samples.Add((watch.Elapsed, ProcessFootprint.Of(sidecar.Id)));
        }

        await Task.WhenAll(
            SampleAsync(),
            load.RepeatAsync(Done, load.TokenAsync), load.RepeatAsync(Done, load.TokenAsync),
            load.RepeatAsync(Done, load.UnaryAsync), load.RepeatAsync(Done, load.UnaryAsync),
            load.RepeatAsync(Done, load.ServerStreamAsync),
            load.RepeatAsync(Done, load.BidiAsync)).WaitAsync(duration + TestWait.Limit);

        var metrics = await admin.GetStringAsync("metrics").Bounded();
        await sidecar.TerminateAsync();
        await sidecar.WaitForExitAsync();
        var leakText = string.Join('\n', sidecar.Output, metrics, load.ErrorText);
        var leaks = TokenLeakScanner.CountLeaks(leakText);

        var warmUp = Longer(duration / 5, MinWarmUp);
        var tailLength = Longer(duration / 10, MinTail);
        var baseline = samples.First(s => s.At >= warmUp);
        var tail = samples.Where(s => s.At >= duration - tailLength).ToList();
        var tailRss = tail.Max(s => s.Footprint.ResidentBytes);
        var tailFds = tail.Max(s => s.Footprint.OpenDescriptors);
        var growth = (double)tailRss / baseline.Footprint.ResidentBytes - 1;
        var fdLimit = Math.Max(baseline.Footprint.OpenDescriptors + DescriptorSlack, (int)(baseline.Footprint.OpenDescriptors * (1 + MaxMemoryGrowth)));
        var passed = load.Failed == 0 && growth <= MaxMemoryGrowth && tailFds <= fdLimit && leaks == 0 && sidecar.ExitCode == 0;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Soak,
            scenario,
            [
                string.Create(CultureInfo.InvariantCulture, $"duration: {watch.Elapsed.TotalMinutes:0.0} min"),
                $"calls: {load.Succeeded + load.Failed} (token API {load.Count(nameof(Load.TokenAsync))}, unary {load.Count(nameof(Load.UnaryAsync))}, server streams {load.Count(nameof(Load.ServerStreamAsync))}, bidi streams {load.Count(nameof(Load.BidiAsync))}; {MessagesPerStream} messages a stream)",
                $"failed calls: {load.Failed}",
                $"distinct tokens served: {load.DistinctTokens}",
                string.Create(CultureInfo.InvariantCulture, $"RSS: {baseline.Footprint.ResidentMegabytes:0.0} MB at {baseline.At.TotalSeconds:0} s, max {tailRss / (1024.0 * 1024.0):0.0} MB in the last {tailLength.TotalSeconds:0} s ({growth * 100:+0.0;-0.0}%)"),
                $"open fds: {baseline.Footprint.OpenDescriptors} at {baseline.At.TotalSeconds:0} s, max {tailFds} in the last {tailLength.TotalSeconds:0} s",
                $"RSS samples (MB): {string.Join(' ', samples.Select(s => s.Footprint.ResidentMegabytes.ToString("0", CultureInfo.InvariantCulture)))}",
                $"token leaks: {leaks}",
                $"exit code after SIGTERM: {sidecar.ExitCode}",
            ],
            passed)
        {
            Note = load.Failed == 0 ? build.Note + ", 20 s tokens, in-process emulators" : "first failure: " + load.FirstFailure,
        });

        Assert.True(leaks == 0, TokenLeakScanner.Describe(leakText, "the sidecar's output, metrics and errors"));
        Assert.True(load.Failed == 0, $"{load.Failed} failed calls; first: {load.FirstFailure}");
        Assert.True(growth <= MaxMemoryGrowth, $"RSS grew {growth:P1} after warm-up");
        Assert.True(tailFds <= fdLimit, $"open descriptors grew from {baseline.Footprint.OpenDescriptors} to {tailFds}");
        Assert.True(load.DistinctTokens >= 2, $"saw {load.DistinctTokens} tokens: the sidecar never refreshed");
        Assert.Equal(0, sidecar.ExitCode);
    }

    private static TimeSpan Longer(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Which build of the sidecar the soak runs, and how.</summary>
    internal sealed record SidecarBuild(string Executable, IReadOnlyDictionary<string, string> Environment, string Note)
    {
        /// <summary>The JIT build next to the tests (<c>dotnet injector.dll</c>).</summary>
        public static SidecarBuild Jit { get; } = new(TestPrograms.Injector, new Dictionary<string, string>(), "sidecar as a child process");

        /// <summary>
        /// The NativeAOT executable named by <see cref="NativeAotVariable"/>, with the heap limit the runtime sets
        /// itself in a container with a memory limit, 75 % of it, here of the injected sidecar's default limit: the
        /// footprint users get.
        /// </summary>
        public static SidecarBuild NativeAot()
        {
            var executable = System.Environment.GetEnvironmentVariable(NativeAotVariable);
            Assert.True(File.Exists(executable), $"{NativeAotVariable} must name a published injector (scripts/reliability --soak publishes one), not '{executable}'");
            var memoryLimit = PodMutatorGoldenTests.FromFlags("--sidecar-image=injector:test").MemoryLimit;
            var heapLimit = new ResourceQuantity(memoryLimit).ToInt64() / 4 * 3;
            return new SidecarBuild(
                executable,
                new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = heapLimit.ToString("X", CultureInfo.InvariantCulture) },
                string.Create(CultureInfo.InvariantCulture, $"the image's NativeAOT sidecar (scripts/publish) as a child process, heap limit {heapLimit / (1024 * 1024)} MiB as in its default {memoryLimit} pod"));
        }
    }

    /// <summary>The callers: each kind of call, counted, with every failure's text kept for the leak scan.</summary>
    private sealed class Load(Echo.EchoClient client, HttpClient tokenApi)
    {
        private readonly ConcurrentDictionary<string, int> _counts = new();
        private readonly ConcurrentQueue<string> _failures = new();
        private readonly ConcurrentDictionary<DateTimeOffset, byte> _tokenExpiries = new();
        private int _succeeded;

        public int Succeeded => Volatile.Read(ref _succeeded);

        public int Failed => _failures.Count;

        public string? FirstFailure => _failures.TryPeek(out var first) ? first : null;

        public string ErrorText => string.Join('\n', _failures);

        public int DistinctTokens => _tokenExpiries.Count;

        public int Count(string kind) => _counts.GetValueOrDefault(kind);

        public async Task RepeatAsync(Func<bool> done, Func<Task> call)
        {
            var kind = call.Method.Name;
            while (!done())
            {
                try
                {
                    await call().Bounded();
                    Interlocked.Increment(ref _succeeded);
                }
                catch (Exception ex) when (ex is RpcException or HttpRequestException or TimeoutException or InvalidDataException)
                {
                    _failures.Enqueue($"{kind}: {ex.GetType().Name}: {ex.Message}");
                }

                _counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
                await Task.Delay(20);
            }
        }

        public async Task TokenAsync()
        {
            using var response = await tokenApi.GetAsync("/v1/token?audience=" + Uri.EscapeDataString(CloudRunStack.ServiceUrl));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidDataException($"token API answered {(int)response.StatusCode}: {body}");
            }

            var token = IdToken.Parse(body);
            if (token.ExpiresAt <= DateTimeOffset.UtcNow)
            {
                throw new InvalidDataException("the token API served an expired token");
            }

            _tokenExpiries.TryAdd(token.ExpiresAt, 0);
        }

        public async Task UnaryAsync()
        {
            var reply = await client.UnaryAsync(new EchoRequest { Message = "unary" }, deadline: TestWait.Deadline());
            Expect(reply.Message == "unary", "unary echo");
        }

        public async Task ServerStreamAsync()
        {
            using var call = client.ServerStream(new StreamRequest { Message = "stream", Count = MessagesPerStream, IntervalMs = 50 }, deadline: TestWait.Deadline());
            var received = 0;
            await foreach (var reply in call.ResponseStream.ReadAllAsync())
            {
                Expect(reply.Sequence == received++, "server stream order");
            }

            Expect(received == MessagesPerStream, "server stream length");
        }

        public async Task BidiAsync()
        {
            using var call = client.Bidi(deadline: TestWait.Deadline());
            for (var i = 0; i < MessagesPerStream; i++)
            {
                var message = "bidi" + i.ToString(CultureInfo.InvariantCulture);
                await call.RequestStream.WriteAsync(new EchoRequest { Message = message });
                Expect(await call.ResponseStream.MoveNext() && call.ResponseStream.Current.Message == message, "bidi echo");
            }

            await call.RequestStream.CompleteAsync();
            Expect(!await call.ResponseStream.MoveNext(), "bidi end");
        }

        private static void Expect(bool condition, string what)
        {
            if (!condition)
            {
                throw new InvalidDataException("unexpected answer: " + what);
            }
        }
    }
}
