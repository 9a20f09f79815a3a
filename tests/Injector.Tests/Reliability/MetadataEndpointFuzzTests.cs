using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using TokenInjector.DevStack.Stack;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Ten thousand paths and queries against the metadata endpoint of a real <c>injector sidecar</c> process, many at once:
/// identity requests with audiences, formats and licences valid and not, pass-through paths, the flavor header there or
/// not, X-Forwarded-For, other methods, then mutated. The learned-audience bound is small, so the fuzz reaches it. The
/// process must keep running, answer no 5xx but the specified ones (502 and 503 as the design gives them; 505, Kestrel's
/// answer to a request line of another HTTP version, before the endpoint sees it), never put a token in a refusal, never
/// forward a request refused at the edge, and still serve identity afterwards.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class MetadataEndpointFuzzTests
{
    private const int Seed = 240024;
    private const int Cases = 10_000;
    private const int Parallelism = 16;
    private const string Audience = "https://svc-abc.a.run.app";
    private const string Identity = "/computeMetadata/v1/instance/service-accounts/default/identity";

    private static readonly string[] Queries =
    [
        "?audience=" + Audience, "?audience=" + Audience + "&format=full", "?audience=" + Uri.EscapeDataString(Audience) + "&format=full&licenses=TRUE",
        "?audience=https://other.a.run.app&format=standard", "?audience=", "?format=full", "", "?audience=a%00b", "?audience=%ZZ", "?audience=x&audience=y",
        "?audience=" + Audience + "&format=compact", "?audience=" + Audience + "&licenses=maybe", "?audience=" + new string('a', 2000),
    ];

    private static readonly string[] Paths =
    [
        Identity, Identity, Identity, "/computeMetadata/v1/instance/service-accounts/app@demo-project.iam.gserviceaccount.com/identity",
        "/computeMetadata/v1/instance/service-accounts/nobody@example.com/identity", "/", "/computeMetadata/", "/computeMetadata/v1/instance",
        "/computeMetadata/v1/instance/service-accounts/default/?recursive=true", "/computeMetadata/v1/instance/service-accounts/default/email",
        "/computeMetadata/v1/instance/service-accounts/default/token", "/computeMetadata/v1/project/project-id", "/computeMetadata/v1/instance/attributes/color",
        "/emulator/stats", "/computeMetadata/../emulator/stats", "/computeMetadata/v1/instance/service-accounts//identity", "*",
    ];

    private static readonly string[] Methods = ["GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "get", "CONNECT"];

    [Fact]
    public async Task TenThousandPathsAndQueries_ProcessSurvives_NoUnspecified5xx_NoTokenInARefusal()
    {
        var started = Stopwatch.GetTimestamp();
        await using var stack = await CloudRunStack.StartAsync();
        stack.Metadata.SetAttribute("color", "blue");
        var port = FreePort.Next();
        using var sidecar = SidecarProcess.Launch(
            stack.Sidecar(["--audience", Audience, "--metadata", port.ToString(CultureInfo.InvariantCulture), "--max-dynamic-audiences", "8"]));
        await sidecar.WaitForPortAsync(port, TestWait.Limit);
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        Assert.True(await TestWait.PollAsync(async () => await ServesIdentityAsync(endpoint), TimeSpan.FromMilliseconds(50)), "the endpoint never served identity: " + sidecar.Output);

        var baseline = ProcessFootprint.Of(sidecar.Id);
        var fuzz = new FuzzInputs(Seed);
        var inputs = Enumerable.Range(0, Cases).Select(_ => Generate(fuzz)).ToList();
        var statuses = new ConcurrentDictionary<string, int>();
        var badAnswers = new ConcurrentQueue<string>();
        var leaks = new ConcurrentQueue<string>();
        var peak = await FuzzDriver.RunAsync(inputs.Count, Parallelism, sidecar.Id, async index =>
        {
            var exchange = await RawHttpExchange.SendAsync(endpoint, inputs[index], TestWait.Limit, TimeSpan.FromSeconds(1));
            var outcome = exchange.TimedOut ? "timed out" : exchange.StatusCode?.ToString(CultureInfo.InvariantCulture) ?? "closed without answer";
            statuses.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            if (exchange.TimedOut || FuzzDriver.IsUnspecifiedServerError(exchange.StatusCode))
            {
                badAnswers.Enqueue($"case {index}: {outcome}: {Shown(inputs[index])}");
            }

            if (exchange.StatusCode != 200 && TokenLeakScanner.CountLeaks(exchange.Answer) > 0)
            {
                leaks.Enqueue($"case {index}: {TokenLeakScanner.Describe(exchange.Answer, "the answer")}");
            }
        });

        var after = ProcessFootprint.Of(sidecar.Id);
        var alive = !sidecar.HasExited;
        var stillServes = alive && await ServesIdentityAsync(endpoint);
        var passed = alive && badAnswers.IsEmpty && leaks.IsEmpty && stillServes;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Fuzzing,
            "metadata endpoint paths and queries, sidecar process",
            [
                $"seed: {Seed}",
                $"inputs: {inputs.Count}, {Parallelism} at a time",
                FuzzDriver.Outcomes(statuses),
                $"5xx other than 502/503/505, or no answer in time: {badAnswers.Count}",
                $"tokens in refusals: {leaks.Count}",
                $"identity requests that reached the metadata server: {stack.Metadata.TotalIdentityRequests}",
                $"process exited: {(alive ? "no" : "yes")}",
                $"footprint before: {baseline}, peak: {peak}, after: {after}",
                $"serves identity afterwards: {(stillServes ? "yes" : "no")}",
                $"run time: {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s",
            ],
            passed)
        {
            Note = string.Join("; ", badAnswers.Concat(leaks).Take(3)),
        });

        Assert.True(alive, "the sidecar process exited: " + sidecar.Output[^Math.Min(2000, sidecar.Output.Length)..]);
        Assert.Empty(badAnswers);
        Assert.Empty(leaks);
        Assert.True(stillServes, "after the run the endpoint no longer served identity");
    }

    private static async Task<bool> ServesIdentityAsync(IPEndPoint endpoint)
    {
        var request = Encoding.ASCII.GetBytes($"GET {Identity}?audience={Audience}&format=full HTTP/1.1\r\nHost: metadata\r\nMetadata-Flavor: Google\r\nConnection: close\r\n\r\n");
        try
        {
            var exchange = await RawHttpExchange.SendAsync(endpoint, request, TestWait.Limit, TimeSpan.FromSeconds(1));
            return exchange.StatusCode == 200;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static byte[] Generate(FuzzInputs fuzz)
    {
        string Maybe(string part) => fuzz.Chance(0.15) ? fuzz.Mutate(part) : part;
        var path = fuzz.Pick(Paths);
        var target = path.EndsWith("/identity", StringComparison.Ordinal) ? path + fuzz.Pick(Queries) : path;
        var text = new StringBuilder()
            .Append(Maybe($"{fuzz.Pick(Methods)} {target} HTTP/1.1")).Append("\r\nHost: ").Append(Maybe("metadata.google.internal")).Append("\r\n");
        if (fuzz.Chance(0.8))
        {
            text.Append(Maybe("Metadata-Flavor: Google")).Append("\r\n");
        }

        if (fuzz.Chance(0.1))
        {
            text.Append("X-Forwarded-For: ").Append(Maybe("10.0.0.1")).Append("\r\n");
        }

        text.Append("Connection: close\r\n\r\n");
        if (fuzz.Chance(0.05))
        {
            text.Append(fuzz.Garbage(256));
        }

        // Latin-1 keeps one byte per character, so controls and high bytes reach the server as they are.
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    private static string Shown(byte[] bytes) => Encoding.Latin1.GetString(bytes, 0, Math.Min(bytes.Length, 200)).ReplaceLineEndings("\\n");
}
