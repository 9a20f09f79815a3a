using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TokenInjector.DevStack.Stack;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Ten thousand malformed requests and connections against the token API socket of a real <c>injector sidecar</c>
/// process, many at once: mutated requests (methods, paths, audience queries, headers, bodies), raw garbage, and
/// half-open connections. The process must keep running, answer only 2xx, 4xx or 503, never put a token in a refusal,
/// give its memory and descriptors back, and still serve a token afterwards.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class TokenSocketFuzzTests
{
    private const int Seed = 71123;
    private const int Cases = 10_000;
    private const int Parallelism = 16;
    private const string Audience = "https://fuzz-abc123-uc.a.run.app";

    /// <summary>Growth of resident memory over the run that still counts as bounded (Kestrel pools buffers of big requests).</summary>
    private const long MemoryGrowthLimit = 256L * 1024 * 1024;

    private static readonly string[] Methods = ["GET", "GET", "GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PATCH", "get", "PRI", "GETGETGETGETGETGETGET"];

    private static readonly string[] Paths = ["/v1/token", "/v1/token", "/v1/token", "/v1/token", "/v1/token/", "/V1/TOKEN", "/v1/token/..", "//v1//token", "/v1/%74oken", "/", "*", "/metrics", "/v1/token;x", "/v1/token#f", "http://localhost/v1/token"];

    private static readonly string[] Queries =
    [
        "?audience=" + Uri.EscapeDataString(Audience), "", "?", "?audience=", "?audience", "?audience=a&audience=b", "?audience=%", "?audience=%zz%00",
        "?audience=%F0%9F%98%80", "?audience=a%20b", "?audience=https://other-{0}.example", "?x=1&audience=" + Uri.EscapeDataString(Audience) + "&y",
        "?audience=" + Uri.EscapeDataString(Audience) + "&audience=" + Uri.EscapeDataString(Audience), "?AUDIENCE=x", "?audience[]=x", "?audience=%%%",
    ];

    private static readonly string[] Headers =
    [
        "Host: localhost", "Accept: application/json", "Accept: */*", "Connection: keep-alive", "Content-Length: 5", "Content-Length: -1",
        "Content-Length: 99999999999999999999", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked", "Expect: 100-continue",
        "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA", "X: \u0001\u007f", "Host:", ": empty-name", "Bad Header: x", "Cookie: a=b",
    ];

    [Fact]
    public async Task TenThousandMalformedRequestsAndConnections_ProcessSurvives_AnswersBounded_NoTokenInRefusals()
    {
        var started = Stopwatch.GetTimestamp();
        await using var metadata = await MetadataEmulator.StartAsync(new MetadataEmulatorOptions()).Bounded();
        using var directory = new TempDirectory();
        var launch = new SidecarLaunch(TestPrograms.Injector, ["--audience", Audience, "--allow-dynamic-audiences", "false"])
        {
            SocketPath = directory.File("sidecar.sock"),
            MetadataHost = metadata.HostAndPort,
        };
        using var sidecar = await SidecarProcess.StartAsync(launch, TestWait.Limit);
        using (var warmUp = await sidecar.GetTokenAsync(Audience))
        {
            Assert.Equal(HttpStatusCode.OK, warmUp.StatusCode);
        }

        var baseline = ProcessFootprint.Of(sidecar.Process.Id);
        var inputs = Generate(new FuzzInputs(Seed));
        var endpoint = new UnixDomainSocketEndPoint(sidecar.SocketPath);
        var statuses = new ConcurrentDictionary<string, int>();
        var badAnswers = new ConcurrentQueue<string>();
        var leaks = new ConcurrentQueue<string>();
        var stalled = new ConcurrentQueue<Socket>();
        var peak = await FuzzDriver.RunAsync(inputs.Count, Parallelism, sidecar.Process.Id, async index =>
        {
            var input = inputs[index];
            if (input.Ending is Ending.Abandon or Ending.Stall)
            {
                var socket = await OpenAndWriteAsync(endpoint, input.Bytes);
                if (input.Ending == Ending.Stall && socket is not null)
                {
                    stalled.Enqueue(socket);
                }
                else
                {
                    socket?.Dispose();
                }

                statuses.AddOrUpdate(input.Ending.ToString(), 1, (_, n) => n + 1);
                return;
            }

            var exchange = await RawHttpExchange.SendAsync(endpoint, input.Bytes, TestWait.Limit, input.Ending == Ending.CutShort ? TimeSpan.Zero : TimeSpan.FromSeconds(1));
            var outcome = exchange.TimedOut ? "timed out" : exchange.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "closed without answer";
            statuses.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            if (exchange.TimedOut || exchange.StatusCode is { } code && !(code is >= 200 and < 300 or >= 400 and < 500 or 503))
            {
                badAnswers.Enqueue($"case {index}: {outcome}");
            }

            if (exchange.StatusCode != 200 && TokenLeakScanner.CountLeaks(exchange.Answer) > 0)
            {
                leaks.Enqueue($"case {index}: {TokenLeakScanner.Describe(exchange.Answer, "the answer")}");
            }
        });

        var withStalled = ProcessFootprint.Of(sidecar.Process.Id);
        while (stalled.TryDequeue(out var socket))
        {
            socket.Dispose();
        }

        var descriptorsBackAfter = await DescriptorsBackAsync(sidecar.Process.Id, baseline.OpenDescriptors);
        var descriptorsBack = descriptorsBackAfter is not null;
        var descriptorKinds = DescriptorKinds(sidecar.Process.Id);
        var after = ProcessFootprint.Of(sidecar.Process.Id);
        using var token = await sidecar.GetTokenAsync(Audience);
        var tokenBody = await token.Content.ReadAsStringAsync();
        var servesToken = token.StatusCode == HttpStatusCode.OK && tokenBody.Split('.').Length == 3;
        var alive = !sidecar.Process.HasExited;
        var memoryBounded = peak.ResidentBytes - baseline.ResidentBytes < MemoryGrowthLimit && after.ResidentBytes - baseline.ResidentBytes < MemoryGrowthLimit;

        var passed = alive && badAnswers.IsEmpty && leaks.IsEmpty && memoryBounded && descriptorsBack && servesToken;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Fuzzing,
            "token API socket, sidecar process",
            [
                $"seed: {Seed}",
                $"inputs: {inputs.Count}, {Parallelism} at a time",
                "outcomes: " + string.Join(", ", statuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} x{s.Value}")),
                $"answers not 2xx/4xx/503: {badAnswers.Count}",
                $"tokens in refusals: {leaks.Count}",
                $"process exited: {(alive ? "no" : "yes")}",
                $"footprint before: {baseline}, peak: {peak}, with stalled connections: {withStalled}, after: {after}",
                $"descriptors back to baseline after the connections closed: {(descriptorsBack ? $"{descriptorsBackAfter!.Value.TotalSeconds:F0} s" : "no")}",
                $"valid token afterwards: {(servesToken ? "yes" : "no")}",
                $"run time: {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s",
            ],
            passed)
        {
            Note = string.Join("; ", badAnswers.Concat(leaks).Take(3)) + (descriptorsBack ? string.Empty : " descriptors not back to baseline: " + descriptorKinds),
        });

        Assert.True(alive, "the sidecar process exited: " + sidecar.Process.Output[^Math.Min(2000, sidecar.Process.Output.Length)..]);
        Assert.Empty(badAnswers);
        Assert.Empty(leaks);
        Assert.True(memoryBounded, $"memory grew from {baseline} to a peak of {peak} ({after} after)");
        Assert.True(descriptorsBack, $"open descriptors {after.OpenDescriptors} did not come back to the baseline {baseline.OpenDescriptors}");
        Assert.True(servesToken, $"after the run the token API answered {(int)token.StatusCode}; {TokenLeakScanner.Describe(tokenBody, "its body")}");
    }

    private enum Ending
    {
        /// <summary>Send everything, shut the write side, read the answer until the server closes.</summary>
        ReadAnswer,

        /// <summary>Send part of a request, shut the write side at once, read what the server says.</summary>
        CutShort,

        /// <summary>Send part of a request and close at once.</summary>
        Abandon,

        /// <summary>Send part of a request and then nothing, keeping the connection open until the end of the run.</summary>
        Stall,
    }

    private sealed record FuzzCase(byte[] Bytes, Ending Ending);

    private static List<FuzzCase> Generate(FuzzInputs fuzz)
    {
        var cases = new List<FuzzCase>(Cases);
        for (var i = 0; i < Cases; i++)
        {
            var kind = fuzz.Next(100);
            if (kind < 10)
            {
                cases.Add(new FuzzCase(fuzz.GarbageBytes(fuzz.Chance(0.1) ? 64 * 1024 : 512), Ending.ReadAnswer));
                continue;
            }

            var request = Request(fuzz, i);
            if (kind < 16)
            {
                // Byte-level damage anywhere in an otherwise plausible request.
                for (var flips = 1 + fuzz.Next(4); flips > 0; flips--)
                {
                    request[fuzz.Next(request.Length)] = (byte)fuzz.Next(256);
                }

                cases.Add(new FuzzCase(request, Ending.ReadAnswer));
            }
            else if (kind < 24)
            {
                var cut = request[..fuzz.Next(request.Length)];
                cases.Add(new FuzzCase(cut, fuzz.Pick([Ending.CutShort, Ending.Abandon, Ending.Stall])));
            }
            else
            {
                cases.Add(new FuzzCase(request, Ending.ReadAnswer));
            }
        }

        return cases;
    }

    private static byte[] Request(FuzzInputs fuzz, int index)
    {
        var method = fuzz.Chance(0.1) ? fuzz.Mutate(fuzz.Pick(Methods)) : fuzz.Pick(Methods);
        var path = fuzz.Chance(0.15) ? fuzz.Mutate(fuzz.Pick(Paths)) : fuzz.Pick(Paths);
        var query = string.Format(System.Globalization.CultureInfo.InvariantCulture, fuzz.Pick(Queries), index % 40);
        query = fuzz.Next(20) switch
        {
            0 => fuzz.Mutate(query),
            1 => "?audience=" + new string('a', 1 + fuzz.Next(96 * 1024)),
            2 => "?audience=" + string.Concat(Enumerable.Range(0, 1 + fuzz.Next(300)).Select(_ => "%" + fuzz.Next(256).ToString("X2", System.Globalization.CultureInfo.InvariantCulture))),
            3 => string.Concat(Enumerable.Range(0, 1 + fuzz.Next(500)).Select(n => (n == 0 ? "?" : "&") + "audience=" + n)),
            _ => query,
        };
        var version = fuzz.Next(20) switch
        {
            0 => fuzz.Mutate("HTTP/1.1"),
            1 => fuzz.Pick(["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "http/1.1"]),
            2 => "HTTP/1.0",
            _ => "HTTP/1.1",
        };

        var text = new StringBuilder().Append(method).Append(' ').Append(path).Append(query).Append(' ').Append(version).Append("\r\n");
        if (!fuzz.Chance(0.05))
        {
            text.Append("Host: localhost\r\n");
        }

        var headerCount = fuzz.Next(20) == 0 ? fuzz.Next(400) : fuzz.Next(4);
        for (var h = 0; h < headerCount; h++)
        {
            text.Append(fuzz.Next(10) switch
            {
                0 => fuzz.Mutate(fuzz.Pick(Headers)),
                1 => "X-Huge: " + new string('h', fuzz.Next(64 * 1024)),
                2 => "X-" + h.ToString(System.Globalization.CultureInfo.InvariantCulture) + ": " + fuzz.Garbage(32),
                _ => fuzz.Pick(Headers),
            }).Append("\r\n");
        }

        text.Append("\r\n");
        if (fuzz.Chance(0.1))
        {
            text.Append(fuzz.Chance(0.5) ? "5\r\nhello\r\n0\r\n\r\n" : fuzz.Garbage(2048));
        }

        // Latin-1 keeps one byte per character, so controls and high bytes reach the server as they are.
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    // The server may close first (it refused the first bytes): the connection is then simply gone, and null returned.
    private static async Task<Socket?> OpenAndWriteAsync(EndPoint endpoint, byte[] bytes)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(endpoint).Bounded();
            await socket.SendAsync(bytes).Bounded();
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    // What the open descriptors are (sockets, pipes, files), for a report that must say what leaked.
    private static string DescriptorKinds(int processId) => string.Join(", ", new DirectoryInfo($"/proc/{processId}/fd").GetFileSystemInfos()
        .Select(fd => fd.LinkTarget is { } target && target.IndexOf(':', StringComparison.Ordinal) is var colon and > 0 ? target[..colon] : "file")
        .GroupBy(kind => kind, StringComparer.Ordinal)
        .Select(group => $"{group.Key} x{group.Count()}"));

    // Closed connections leave the server's descriptor table once Kestrel has noticed them, for some stalled ones only
    // when the first-bytes (30 s) and request-header (30 s) timeouts have both run: poll, bounded by three times that.
    private static async Task<TimeSpan?> DescriptorsBackAsync(int processId, int baseline)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < 3 * TestWait.Limit)
        {
            if (ProcessFootprint.Of(processId).OpenDescriptors <= baseline)
            {
                return Stopwatch.GetElapsedTime(started);
            }

            await Task.Delay(100);
        }

        return null;
    }
}
