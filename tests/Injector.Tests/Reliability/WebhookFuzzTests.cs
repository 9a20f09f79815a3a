using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using TokenInjector.Tests.Charts;
using TokenInjector.Tests.Support;
using TokenInjector.Tests.Webhook;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Ten thousand malformed AdmissionReviews posted over HTTPS to a real webhook process, the NativeAOT
/// <c>injector-webhook</c> the image ships when <see cref="NativeWebhookVariable"/> names one: wrong types,
/// deep nesting, huge arrays and strings, bad and unknown annotations, other kinds, truncated JSON, wrong apiVersion,
/// missing uid; pods to <c>/mutate</c>, and about a third wrapped as the pod template of a workload to <c>/validate</c>.
/// Every answer must be a well-formed AdmissionReview for the request's uid (from <c>/validate</c>, without a patch),
/// or a 400 when the body is not a usable review; never a 5xx; the process keeps running, the NativeAOT build under
/// half the chart's memory limit.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class WebhookFuzzTests
{
    private const int Seed = 4401;
    private const int Cases = 10_000;
    private const int Parallelism = 8;

    /// <summary>The published NativeAOT <c>injector-webhook</c> to fuzz; scripts/reliability publishes it and sets this.</summary>
    public const string NativeWebhookVariable = "TOKEN_INJECTOR_NATIVE_WEBHOOK";

    // Growth of the JIT build beyond its heap is native: connection and TLS buffers, thread stacks, JIT-compiled code.
    private const long NativeAllowance = 64L * 1024 * 1024;

    private static readonly string[] GoldenInputs =
    [
        "classic-sidecar", "controller-generate-name", "existing-volumes-env", "init-containers", "job-pod", "multi-container-selected", "token-dir",
        "istio-theirs-first", "istio-ours-first-reinvoked", "linkerd-native", "migration-init-container", "sidecar-stripped-by-another-webhook",
    ];

    private static readonly string[] AnnotationKeys =
    [
        InjectionAnnotations.Audiences, InjectionAnnotations.Routes, InjectionAnnotations.TokenDir, InjectionAnnotations.Containers,
        InjectionAnnotations.CpuRequest, InjectionAnnotations.MemoryRequest, InjectionAnnotations.MemoryLimit, InjectionAnnotations.NativeSidecar,
        InjectionAnnotations.AdminPort, InjectionAnnotations.InitContainers,
        "token-injector.dev/unknown", "token-injector.dev/", "other.example/x",
    ];

    private static readonly string[] AnnotationValues =
    [
        "8080=https://svc-abc123-uc.a.run.app", "https://svc-abc123-uc.a.run.app", "/var/run/secrets/tokens", "/", "/etc", "..", "/a/../etc", "//etc",
        "app", "app,sidecar,", "10m", "64Mi", "1e99", "-1", "true", "maybe", "", ",,,", "8080=https://h=a,8080=https://h", "0=https://x", "1=http://x", "9464", "65536", "migrate,istio-proxy",
    ];

    [Fact]
    public async Task TenThousandMalformedReviews_WebhookProcess_AnswersReviewsOr400_Never5xx_MemoryBounded()
    {
        var started = Stopwatch.GetTimestamp();
        using var certificates = WebhookTestCertificates.Create();

        // In its pod the runtime caps the webhook's heap at 75 % of the container's memory limit (the chart's): the
        // process gets the same cap, which an unbounded allocation would hit (an out-of-memory 5xx or exit).
        var memoryLimitText = ChartFiles.Values()["webhook"]!["resources"]!["limits"]!["memory"]!.GetValue<string>();
        var memoryLimit = new ResourceQuantity(memoryLimitText).ToInt64();
        var heapLimit = memoryLimit / 4 * 3;
        string[] args =
        [
            "webhook", "--listen", "127.0.0.1:0", "--tls-cert-file", certificates.CertFile, "--tls-key-file", certificates.KeyFile,
            "--sidecar-image", "ghcr.io/token-injector/injector:test", "--namespace", "token-injector",
        ];
        var environment = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = heapLimit.ToString("X", CultureInfo.InvariantCulture) };

        // The image's NativeAOT build when scripts/reliability published it; the JIT build next to the tests otherwise, and the row says so.
        var native = Environment.GetEnvironmentVariable(NativeWebhookVariable);
        var isNative = !string.IsNullOrEmpty(native);
        Assert.True(!isNative || File.Exists(native), $"{NativeWebhookVariable} must name a published injector-webhook (scripts/publish), not '{native}'");
        using var webhook = isNative
            ? ChildProcess.Start(native!, args, environment, "injector-webhook")
            : ChildProcess.StartAssembly("injector.dll", args, environment);
        var listening = await webhook.WaitForLineAsync(line => line.Contains("Webhook listening on https://", StringComparison.Ordinal));
        var address = listening[(listening.IndexOf("https://", StringComparison.Ordinal) + "https://".Length)..].Trim();
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificates.Validate(new X509Certificate2(certificate!)),
            },
            MaxConnectionsPerServer = Parallelism,
        })
        { BaseAddress = new Uri("https://" + address), Timeout = TestWait.Limit };

        var inputs = await GenerateAsync(new FuzzInputs(Seed));
        using (var warmUp = await client.PostAsync(inputs[0].Path, Content(inputs[0].Body)).Bounded())
        {
        }

        var baseline = ProcessFootprint.Of(webhook.Id);
        var outcomes = new ConcurrentDictionary<string, int>();
        var defects = new ConcurrentQueue<string>();
        var peak = await FuzzDriver.RunAsync(inputs.Count, Parallelism, webhook.Id, async index =>
        {
            var (body, uid, path) = inputs[index];
            using var response = await client.PostAsync(path, Content(body)).Bounded();
            var text = await response.Content.ReadAsStringAsync().Bounded();
            var outcome = Judge(response.StatusCode, text, uid, path, out var problem);
            outcomes.AddOrUpdate(path + " " + outcome, 1, (_, n) => n + 1);
            if (problem is not null)
            {
                defects.Enqueue($"case {index}: {problem}");
            }
        });

        var after = ProcessFootprint.Of(webhook.Id);
        var alive = !webhook.HasExited;
        // The image's build stays under half its limit; the JIT build, whose compiled code alone is tens of MB,
        // within its heap cap and an allowance above where it started.
        var memoryBound = isNative ? memoryLimit / 2 : baseline.ResidentBytes + heapLimit + NativeAllowance;
        var memoryBounded = peak.ResidentBytes < memoryBound;

        var passed = alive && defects.IsEmpty && memoryBounded;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Fuzzing,
            isNative ? "webhook AdmissionReviews, NativeAOT webhook process" : "webhook AdmissionReviews, webhook process (JIT build)",
            [
                $"seed: {Seed}",
                $"reviews: {inputs.Count}, {Parallelism} at a time",
                "outcomes: " + string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} x{o.Value}")),
                $"5xx or malformed answers: {defects.Count}",
                $"process exited: {(alive ? "no" : "yes")}",
                $"footprint before: {baseline}, peak: {peak}, after: {after} (heap capped at {heapLimit / (1024 * 1024)} MiB as in a pod with the chart's {memoryLimitText} limit; bound on the peak: {memoryBound / (1024 * 1024)} MiB)",
                $"run time: {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s",
            ],
            passed)
        {
            Note = string.Join("; ", defects.Take(3)),
        });

        Assert.True(alive, "the webhook process exited");
        Assert.Empty(defects);
        Assert.True(memoryBounded, $"memory grew from {baseline} to a peak of {peak}, above {memoryBound / (1024 * 1024)} MiB");
    }

    private static StringContent Content(string body) => new(body, Encoding.UTF8, "application/json");

    // A 400 is right for a body that is no usable review; anything else must be a review answering the same uid.
    private static string Judge(HttpStatusCode status, string text, string? uid, string path, out string? problem)
    {
        problem = null;
        if (status == HttpStatusCode.BadRequest)
        {
            problem = text.StartsWith("bad admission request: ", StringComparison.Ordinal) ? null : "a 400 without a reason";
            return "400";
        }

        if (status != HttpStatusCode.OK)
        {
            problem = $"HTTP {(int)status}: {text[..Math.Min(200, text.Length)]}";
            return ((int)status).ToString(CultureInfo.InvariantCulture);
        }

        try
        {
            var response = JsonNode.Parse(text)!["response"]!;
            var allowed = response["allowed"]!.GetValue<bool>();
            if (response["uid"]?.GetValue<string>() != uid)
            {
                problem = "a review for another uid";
            }
            else if (!allowed && string.IsNullOrWhiteSpace(response["status"]?["message"]?.GetValue<string>()))
            {
                problem = "a denial without a message";
            }
            else if (path == "/validate" && response["patch"] is not null)
            {
                problem = "a patch from the validating check";
            }

            return allowed ? (response["patch"] is null ? "allowed" : "mutated") : "denied";
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NullReferenceException)
        {
            problem = "a 200 that is not an AdmissionReview: " + ex.Message;
            return "malformed";
        }
    }

    private static async Task<List<(string Body, string? Uid, string Path)>> GenerateAsync(FuzzInputs fuzz)
    {
        var golden = GoldenInputs.Select(RunningWebhook.GoldenInput).ToList();
        var cases = new List<(string, string?, string)>(Cases);
        for (var i = 0; i < Cases; i++)
        {
            var uid = "fuzz-" + i.ToString(CultureInfo.InvariantCulture);
            using var content = RunningWebhook.ReviewContent(fuzz.Pick(golden), uid);
            var review = JsonNode.Parse(await content.ReadAsStringAsync())!;
            var mutations = 1 + fuzz.Next(3);
            for (var m = 0; m < mutations; m++)
            {
                Mutate(fuzz, review);
            }

            var path = fuzz.Chance(0.3) ? AsWorkload(fuzz, review) : "/mutate";
            var body = review.ToJsonString();
            switch (fuzz.Next(20))
            {
                case 0:
                    body = body[..fuzz.Next(body.Length)];
                    break;
                case 1:
                    body = fuzz.Mutate(body);
                    break;
                case 2:
                    body = fuzz.Garbage(512);
                    break;
                default:
                    break;
            }

            cases.Add((body, UidOf(body), path));
        }

        return cases;
    }

    // The uid an answer must carry, as the server reads it from the body sent (a lone surrogate arrives as U+FFFD).
    private static string? UidOf(string body)
    {
        try
        {
            return (JsonNode.Parse(Encoding.UTF8.GetBytes(body))?["request"] as JsonObject)?["uid"] is JsonValue value && value.TryGetValue<string>(out var uid) ? uid : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static void Mutate(FuzzInputs fuzz, JsonNode review)
    {
        var request = review["request"] as JsonObject;
        var pod = request?["object"] as JsonObject;
        var metadata = pod?["metadata"] as JsonObject;
        switch (fuzz.Next(12))
        {
            case 0 or 1 or 2 when metadata is not null:
                var annotations = metadata["annotations"] as JsonObject ?? [];
                metadata["annotations"] = annotations;
                annotations[fuzz.Pick(AnnotationKeys)] = fuzz.Chance(0.1) ? RandomValue(fuzz, 0) : fuzz.Chance(0.5) ? fuzz.Pick(AnnotationValues) : fuzz.Text(AnnotationValues, 96);
                break;
            case 3 when request is not null:
                request[fuzz.Pick(["uid", "kind", "operation", "namespace", "name", "object", "dryRun"])] = RandomValue(fuzz, 0);
                break;
            case 4:
                review[fuzz.Pick(["apiVersion", "kind", "request"])] = fuzz.Chance(0.5) ? fuzz.Text(["admission.k8s.io/v1", "AdmissionReview", "admission.k8s.io/v1beta1"]) : RandomValue(fuzz, 0);
                break;
            case 5 when request is not null:
                request.Remove(fuzz.Pick(["uid", "kind", "operation", "object", "namespace"]));
                break;
            default:
                ReplaceSomewhere(fuzz, pod ?? review);
                break;
        }
    }

    // The (mutated) pod becomes the pod template of a workload of a random kind, for /validate.
    private static string AsWorkload(FuzzInputs fuzz, JsonNode review)
    {
        if (review["request"] is JsonObject request)
        {
            var kind = fuzz.Pick(Workloads.Kinds);
            request["kind"] = new JsonObject { ["group"] = Workloads.Group(kind), ["version"] = "v1", ["kind"] = kind };
            request["operation"] = fuzz.Chance(0.5) ? "CREATE" : "UPDATE";
            if (request["object"] is JsonObject pod)
            {
                request["object"] = Workloads.Wrap(kind, pod);
            }
        }

        return "/validate";
    }

    // Replaces one node somewhere inside the pod with a value of a random type.
    private static void ReplaceSomewhere(FuzzInputs fuzz, JsonNode node)
    {
        var depth = fuzz.Next(6);
        for (var level = 0; level < depth; level++)
        {
            var children = node switch
            {
                JsonObject o => o.Select(p => p.Value).Where(v => v is JsonObject or JsonArray).ToList(),
                JsonArray a => a.Where(v => v is JsonObject or JsonArray).ToList(),
                _ => [],
            };
            if (children.Count == 0)
            {
                break;
            }

            node = fuzz.Pick(children)!;
        }

        switch (node)
        {
            case JsonObject o when o.Count > 0:
                var key = fuzz.Pick(o.Select(p => p.Key).ToList());
                if (fuzz.Chance(0.2))
                {
                    o.Remove(key);
                }
                else
                {
                    o[key] = RandomValue(fuzz, 0);
                }

                break;
            case JsonArray a when a.Count > 0:
                a[fuzz.Next(a.Count)] = RandomValue(fuzz, 0);
                break;
            case JsonArray a:
                a.Add(RandomValue(fuzz, 0));
                break;
            default:
                break;
        }
    }

    private static JsonNode? RandomValue(FuzzInputs fuzz, int depth) => fuzz.Next(depth > 3 ? 6 : 10) switch
    {
        0 => null,
        1 => JsonValue.Create(fuzz.Next(int.MaxValue) - (int.MaxValue / 2)),
        2 => JsonValue.Create(fuzz.Chance(0.5)),
        3 => JsonValue.Create(fuzz.Garbage(64)),
        4 => JsonValue.Create(new string('x', fuzz.Next(256 * 1024))),
        5 => JsonValue.Create(1e308 * (fuzz.Chance(0.5) ? 1 : -1)),
        6 => Nested(fuzz.Next(80)),
        7 => new JsonArray(Enumerable.Range(0, fuzz.Next(20_000)).Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
        8 => new JsonObject { ["name"] = RandomValue(fuzz, depth + 1), ["mountPath"] = RandomValue(fuzz, depth + 1), ["value"] = RandomValue(fuzz, depth + 1) },
        _ => new JsonArray(RandomValue(fuzz, depth + 1), RandomValue(fuzz, depth + 1)),
    };

    // Deep nesting past System.Text.Json's default depth limit of 64.
    private static JsonNode Nested(int depth)
    {
        JsonNode node = new JsonArray();
        for (var i = 0; i < depth; i++)
        {
            node = new JsonArray(node);
        }

        return node;
    }
}
