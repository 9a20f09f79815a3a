using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using TokenInjector.DevStack.Stack;
using TokenInjector.Tests.Proxy;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Ten thousand request targets and CONNECT lines against the egress port of a real <c>injector sidecar</c> process,
/// many at once: forward-proxy URLs, origin-form paths with a Host, CONNECT heads and the requests inside their
/// tunnels, built from hosts on and off the allowlist, other ports, https, user information, IP literals, then mutated.
/// Only service A's host is allowed; service B is reachable but not allowed. The process must keep running, answer
/// no 5xx but the specified ones (502 and 503 as on routes; 505, Kestrel's answer to a request line of another HTTP
/// version, before any egress decision), refuse every target built to be refused, never put a token in a refusal,
/// reach service B never and fetch no token for anything but service A, and still forward afterwards.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed partial class EgressFuzzTests
{
    private const int Seed = 160016;
    private const int Cases = 10_000;
    private const int Parallelism = 16;
    private const string A = EgressStack.HostA;
    private const string B = EgressStack.HostB;

    // Hosts as requests name them: true when a request naming only it (on port 80) must be forwarded.
    private static readonly (string Authority, bool Allowed)[] Authorities =
    [
        (A, true), (A + ":80", true), (A.ToUpperInvariant(), true), (A + ".", true),
        (B, false), (B + ":80", false), (A + ":443", false), (A + ":8080", false), (A + ":0", false), (A + ":65536", false),
        ("evil.example", false), ("evil.example:80", false), ("run.app", false), ("a.run.app.evil.example", false),
        ("127.0.0.1", false), ("127.0.0.1:80", false), ("[::1]:80", false), ("169.254.169.254", false), ("metadata.google.internal", false),
        ("evil" + A, false), ("x." + A, false), (A + "@evil.example", false), ("evil.example@" + A, false), (A + ":", false),
    ];

    private static readonly string[] Methods = ["GET", "GET", "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "get", "CONNECT"];

    private static readonly string[] Paths = ["/whoami", "/", "/healthz", "/whoami?x=1", "/a/../whoami", "//whoami", "/%2e%2e/", "*"];

    [Fact]
    public async Task TenThousandTargetsAndConnectLines_ProcessSurvives_NoUnspecified5xx_RefusedTargetsReachNothing()
    {
        var started = Stopwatch.GetTimestamp();
        await using var egress = await EgressStack.StartAsync();
        using var sidecar = SidecarProcess.Launch(egress.Stack.Sidecar(egress.EgressArgs("--egress-host", A)));
        using var proxied = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy(egress.ProxyUrl), UseProxy = true }) { Timeout = TestWait.Limit };
        Assert.True(await TestWait.PollAsync(async () => await ForwardsAsync(proxied), TimeSpan.FromMilliseconds(50)), "the egress port never forwarded: " + sidecar.Output);

        var baseline = ProcessFootprint.Of(sidecar.Id);
        var fuzz = new FuzzInputs(Seed);
        var inputs = Enumerable.Range(0, Cases).Select(_ => Generate(fuzz)).ToList();
        var endpoint = new IPEndPoint(IPAddress.Loopback, egress.EgressPort);
        var statuses = new ConcurrentDictionary<string, int>();
        var badAnswers = new ConcurrentQueue<string>();
        var forwardedRefusals = new ConcurrentQueue<string>();
        var leaks = new ConcurrentQueue<string>();
        var peak = await FuzzDriver.RunAsync(inputs.Count, Parallelism, sidecar.Id, async index =>
        {
            var input = inputs[index];
            var exchange = await RawHttpExchange.SendAsync(endpoint, input.Bytes, TestWait.Limit, TimeSpan.FromSeconds(1));

            // A tunnel's answer is the CONNECT's, then the answer of the request inside it.
            var codes = StatusLine().Matches(exchange.Answer).Select(m => int.Parse(m.Groups["code"].Value, CultureInfo.InvariantCulture)).ToList();
            var outcome = exchange.TimedOut ? "timed out" : codes.Count == 0 ? "closed without answer" : string.Join('+', codes);
            statuses.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            if (exchange.TimedOut || codes.Any(code => FuzzDriver.IsUnspecifiedServerError(code)))
            {
                badAnswers.Enqueue($"case {index}: {outcome}: {Shown(input.Bytes)}");
            }

            if (input.MustRefuse && codes.LastOrDefault() is >= 200 and < 300)
            {
                forwardedRefusals.Enqueue($"case {index}: {outcome}: {Shown(input.Bytes)}");
            }

            if (codes.LastOrDefault() != 200 && TokenLeakScanner.CountLeaks(exchange.Answer) > 0)
            {
                leaks.Enqueue($"case {index}: {TokenLeakScanner.Describe(exchange.Answer, "the answer")}");
            }
        });

        var after = ProcessFootprint.Of(sidecar.Id);
        var alive = !sidecar.HasExited;
        var stillForwards = alive && await ForwardsAsync(proxied);
        var reachedB = egress.ServiceB.Stats.Accepted + egress.ServiceB.Stats.Rejected;
        var otherAudiences = egress.Stack.Metadata.TotalIdentityRequests - egress.Stack.Metadata.IdentityRequests("https://" + A);

        var passed = alive && badAnswers.IsEmpty && forwardedRefusals.IsEmpty && leaks.IsEmpty && reachedB == 0 && otherAudiences == 0 && stillForwards;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Fuzzing,
            "egress port targets and CONNECT lines, sidecar process",
            [
                $"seed: {Seed}",
                $"inputs: {inputs.Count} ({inputs.Count(i => i.MustRefuse)} built to be refused), {Parallelism} at a time",
                FuzzDriver.Outcomes(statuses),
                $"5xx other than 502/503/505, or no answer in time: {badAnswers.Count}",
                $"targets built to be refused that were forwarded: {forwardedRefusals.Count}",
                $"requests that reached the service off the allowlist: {reachedB}; tokens fetched for other audiences: {otherAudiences}",
                $"tokens in refusals: {leaks.Count}",
                $"process exited: {(alive ? "no" : "yes")}",
                $"footprint before: {baseline}, peak: {peak}, after: {after}",
                $"forwards afterwards: {(stillForwards ? "yes" : "no")}",
                $"run time: {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s",
            ],
            passed)
        {
            Note = string.Join("; ", badAnswers.Concat(forwardedRefusals).Concat(leaks).Take(3)),
        });

        Assert.True(alive, "the sidecar process exited: " + sidecar.Output[^Math.Min(2000, sidecar.Output.Length)..]);
        Assert.Empty(badAnswers);
        Assert.Empty(forwardedRefusals);
        Assert.Empty(leaks);
        Assert.Equal(0, reachedB);
        Assert.Equal(0, otherAudiences);
        Assert.True(stillForwards, "after the run the egress port no longer forwarded");
    }

    private sealed record FuzzCase(byte[] Bytes, bool MustRefuse);

    private static async Task<bool> ForwardsAsync(HttpClient proxied)
    {
        try
        {
            using var response = await proxied.GetAsync($"http://{A}/whoami");
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    // One request to the egress port: its target and Host (and, for a tunnel, the CONNECT line and the request inside)
    // each name a host from Authorities. MustRefuse: some place names a host that is not allowed and nothing was mutated.
    private static FuzzCase Generate(FuzzInputs fuzz)
    {
        var (authority, allowed) = fuzz.Pick(Authorities);
        var (hostHeader, hostAllowed) = fuzz.Chance(0.7) ? (authority, allowed) : fuzz.Pick(Authorities);
        var mustRefuse = !allowed || !hostAllowed;
        var text = new StringBuilder();
        var mutated = false;
        string Maybe(string part)
        {
            if (!fuzz.Chance(0.15))
            {
                return part;
            }

            mutated = true;
            return fuzz.Mutate(part);
        }

        var path = fuzz.Pick(Paths);
        switch (fuzz.Next(4))
        {
            case 0: // a tunnel, then a request inside it (or nothing)
                var port = authority.Contains(':', StringComparison.Ordinal) || authority.StartsWith('[') ? authority : authority + ":80";
                text.Append(Maybe($"CONNECT {port} HTTP/1.1")).Append("\r\n").Append(Maybe($"Host: {port}")).Append("\r\n\r\n");
                var inside = fuzz.Chance(0.8);
                mustRefuse = !allowed || (inside && !hostAllowed);
                if (inside)
                {
                    text.Append(Maybe($"{fuzz.Pick(Methods)} {path} HTTP/1.1")).Append("\r\nHost: ").Append(Maybe(hostHeader)).Append("\r\nConnection: close\r\n\r\n");
                }

                break;
            case 1: // origin-form, the host in Host only
                text.Append(Maybe($"{fuzz.Pick(Methods)} {path} HTTP/1.1")).Append("\r\nHost: ").Append(Maybe(authority)).Append("\r\n\r\n");
                mustRefuse = !allowed;
                break;
            default: // a forward-proxy URL, with a Host that usually agrees
                var scheme = fuzz.Next(10) switch { 0 => "https", 1 => "HTTP", _ => "http" };
                mustRefuse |= scheme == "https";
                var target = $"{scheme}://{authority}{(path == "*" ? "/" : path)}";
                text.Append(Maybe($"{fuzz.Pick(Methods)} {target} HTTP/1.1")).Append("\r\nHost: ").Append(Maybe(hostHeader)).Append("\r\n\r\n");
                break;
        }

        if (fuzz.Chance(0.05))
        {
            text.Append(fuzz.Garbage(256));
            mutated = true;
        }

        // Latin-1 keeps one byte per character, so controls and high bytes reach the server as they are.
        return new FuzzCase(Encoding.Latin1.GetBytes(text.ToString()), mustRefuse && !mutated);
    }

    private static string Shown(byte[] bytes) => Encoding.Latin1.GetString(bytes, 0, Math.Min(bytes.Length, 200)).ReplaceLineEndings("\\n");

    [GeneratedRegex(@"(?:^|\r\n)HTTP/1\.[01] (?<code>[0-9]{3}) ")]
    private static partial Regex StatusLine();
}
