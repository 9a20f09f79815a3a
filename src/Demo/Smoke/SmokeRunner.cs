using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TokenInjector.Demo.Observing;
using TokenInjector.DevStack.Certificates;
using TokenInjector.DevStack.Files;
using TokenInjector.DevStack.Kubernetes;
using TokenInjector.DevStack.Network;
using TokenInjector.DevStack.Processes;
using TokenInjector.DevStack.Stack;

namespace TokenInjector.Demo.Smoke;

/// <summary>
/// Every role of an <c>injector</c> executable against the emulators, each check a real call: <c>--help</c>;
/// <c>sidecar</c> with three audiences and two routes (tokens over the socket as text and JSON, <c>/readyz</c>,
/// <c>/metrics</c>, the sample client's gRPC calls through a route reaching the service with the sidecar's token,
/// SIGTERM then exit 0); <c>sidecar --token-source adc</c> with every kind of credentials file it claims (a
/// service-account key, an impersonated service account and an external account with a file and with a URL subject
/// token mint exact tokens through the emulator's OAuth2 endpoints, STS and IAM; user credentials exit 2 at start);
/// <c>sidecar --impersonate</c> for a pod whose metadata server refuses it ID tokens; <c>token</c>; <c>webhook</c> (which the sidecar build execs as <c>injector-webhook</c>:
/// one AdmissionReview over HTTPS, SIGTERM then exit 0), once with certificate files and once keeping its own
/// certificate against the Kubernetes API server stand-in (Secret created, caBundle written, the review over a connection
/// that trusts only that caBundle). Prints the binary's size, the sidecar's idle resident
/// memory and its start to <c>/readyz</c> time. A build for another machine runs under a user-mode emulator
/// (<see cref="SmokeOptions.Emulator"/>): the webhook is then started as <c>injector-webhook</c> itself, a route's
/// first calls are retried, and no footprint is printed.
/// </summary>
internal sealed partial class SmokeRunner(SmokeOptions options, DevPrograms programs, TextWriter output)
{
    private const string ServiceHost = "smoke-abc123-uc.a.run.app";
    private const string ServiceAccount = "smoke@aot-smoke.iam.gserviceaccount.com";

    private static readonly string[] Audiences = ["https://billing.example.com", "https://orders.example.com", "https://inventory.example.com"];

    // Characters that change a query when not percent-encoded: the token must still be for exactly this audience.
    private const string OddAudience = "https://y.run.app&foo=1#x+y";
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan EmulatedFirstCallLimit = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan IdleSettle = TimeSpan.FromSeconds(2);

    /// <summary>0 when every check held; 1 with the failed check and the last lines of every process otherwise.</summary>
    public async Task<int> RunAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        LocalStack? stack = null;
        try
        {
            await CheckHelpAsync();
            stack = await LocalStack.StartProcessesAsync(
                new StackOptions { ServiceHost = ServiceHost, ServiceAccount = ServiceAccount, Invokers = [ServiceAccount], DirectoryPrefix = "token-injector-smoke-" },
                programs,
                stop);
            var (readyAfter, idleResident) = await CheckSidecarAsync(stack, stop);
            await CheckImpersonationAsync(stack, stop);
            await CheckApplicationDefaultCredentialsAsync(stack, stop);
            await CheckWebhookAsync(stack, stop);
            await CheckSelfManagedWebhookAsync(stack, stop);
            var size = new FileInfo(options.Injector).Length;
            output.WriteLine(options.Emulator is { } emulator
                ? string.Create(CultureInfo.InvariantCulture, $"binary: {size} bytes; run under {emulator}: no footprint figures")
                : string.Create(CultureInfo.InvariantCulture,
                    $"binary: {size} bytes; sidecar (3 audiences, 2 routes, tokens fetched): idle VmRSS {idleResident / 1024} MB ({idleResident} kB), start -> /readyz {readyAfter.TotalMilliseconds:0} ms"));
            output.WriteLine($"smoke: passed in {clock.Elapsed.TotalSeconds:0} s");
            return 0;
        }
        catch (Exception ex) when (ex is SmokeFailedException or ChildProcessException or TimeoutException or HttpRequestException)
        {
            output.WriteLine($"smoke: FAILED: {ex.Message}");
            foreach (var child in (stack?.Processes ?? []).Concat(ex is ChildProcessException failed ? [failed.Child] : []).Distinct())
            {
                output.WriteLine($"--- last lines of {child.Name}");
                foreach (var line in child.RecentLines())
                {
                    output.WriteLine(line);
                }
            }

            return 1;
        }
        finally
        {
            if (stack is not null)
            {
                await stack.DisposeAsync();
            }
        }
    }

    private static void Require(bool condition, string check)
    {
        if (!condition)
        {
            throw new SmokeFailedException(check);
        }
    }

    private static async Task StopCleanlyAsync(ChildProcess child)
    {
        // DESIGN: drain, then exit 0.
        await child.TerminateAsync();
        await child.WaitForExitAsync(StopTimeout);
        Require(child.ExitCode == 0, $"the {child.Name} exited with {child.ExitCode} after SIGTERM");
    }

    private static long ResidentKilobytes(int processId) =>
        File.ReadLines($"/proc/{processId}/status").Where(line => line.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(line => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture))
            .Single();

    private async Task CheckHelpAsync()
    {
        var (exitCode, help, _) = await RunInjectorAsync(["--help"]);
        Require(exitCode == 0, $"injector --help exited with {exitCode}");
        Require(help.Contains("webhook", StringComparison.Ordinal), "injector --help does not list the roles");
        var (sidecarExit, sidecarHelp, _) = await RunInjectorAsync(["sidecar", "--help"]);
        Require(sidecarExit == 0 && sidecarHelp.Contains("--audience", StringComparison.Ordinal), "injector sidecar --help does not list --audience");
    }

    private async Task<(TimeSpan ReadyAfter, long IdleResidentKilobytes)> CheckSidecarAsync(LocalStack stack, CancellationToken stop)
    {
        var routes = FreePort.Take(2);
        var started = Stopwatch.StartNew();
        using var sidecar = stack.Track(await SidecarProcess.StartAsync(
            Sidecar(stack, [.. Audiences.SelectMany(audience => new[] { "--audience", audience }), .. stack.RouteArgs(routes), "--drain-timeout", "5s"], "token.sock"),
            LocalStack.StartTimeout,
            stop));
        var readyAfter = started.Elapsed;

        foreach (var audience in Audiences[..2])
        {
            using var response = await sidecar.GetTokenAsync(audience);
            Require(response.StatusCode == HttpStatusCode.OK && Jwt().IsMatch(await response.Content.ReadAsStringAsync(stop)), $"no JWT over the socket for {audience}");
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "v1/token?audience=" + Uri.EscapeDataString(Audiences[2])))
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await sidecar.Socket.SendAsync(request, stop);
            Require(
                (await response.Content.ReadAsStringAsync(stop)).Contains($"\"audience\":\"{Audiences[2]}\"", StringComparison.Ordinal),
                "the socket's JSON answer does not name its audience");
        }

        await CheckOddAudienceAsync(sidecar, "metadata");
        var (tokenExit, token, _) = await RunInjectorAsync(["token", "--audience", Audiences[0], "--socket", sidecar.SocketPath]);
        Require(tokenExit == 0 && Jwt().IsMatch(token.Trim()), "injector token printed no JWT");

        var metrics = await sidecar.AdminClient.GetStringAsync(new Uri("metrics", UriKind.Relative), stop);
        foreach (var metric in new[] { "token_injector_token_refresh_total", "token_injector_token_expiry_timestamp_seconds", "token_injector_token_requests_total" })
        {
            Require(metrics.Split('\n').Any(line => line.StartsWith(metric + "{", StringComparison.Ordinal)), $"/metrics has no {metric}");
        }

        await CheckCallsThroughRouteAsync(routes[0]);
        metrics = await sidecar.AdminClient.GetStringAsync(new Uri("metrics", UriKind.Relative), stop);
        Require(metrics.Contains("\ntoken_injector_proxy_requests_total{", StringComparison.Ordinal), "/metrics has no proxy requests");

        // Settle after the start-up work, then read the resident set.
        await Task.Delay(IdleSettle, stop);
        // Under an emulator the resident set would be the emulator's.
        var idleResident = options.Emulator is null ? ResidentKilobytes(sidecar.Process.Id) : 0;
        await StopCleanlyAsync(sidecar.Process);
        return (readyAfter, idleResident);
    }

    /// <summary>A token over the socket for <see cref="OddAudience"/> (percent-encoded in the query) is for exactly that audience.</summary>
    private static async Task CheckOddAudienceAsync(SidecarProcess sidecar, string source)
    {
        using var response = await sidecar.GetTokenAsync(OddAudience);
        var audience = response.StatusCode == HttpStatusCode.OK ? TokenClaims.FromJwt(await response.Content.ReadAsStringAsync())?.Audience : null;
        Require(audience == OddAudience, $"the {source} source's token for {OddAudience} has aud '{audience}' (status {(int)response.StatusCode})");
    }

    /// <summary>
    /// <c>--impersonate</c> on the metadata source while the metadata server refuses ID tokens (a Kubernetes service
    /// account without a Google one): the tokens can only come from IAM's <c>generateIdToken</c> (the emulator's, as
    /// <c>--iam-credentials-url</c>), authorised by the metadata server's access token.
    /// </summary>
    private async Task CheckImpersonationAsync(LocalStack stack, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = stack.MetadataAddress, Timeout = StopTimeout };
        await SetIdentityRefusalAsync(http, "\"no_service_account\"", stop);
        var route = FreePort.Next();
        using var sidecar = stack.Track(await SidecarProcess.StartAsync(
            Sidecar(
                stack,
                ["--impersonate", ServiceAccount, "--iam-credentials-url", stack.MetadataAddress.AbsoluteUri, "--audience", OddAudience, .. stack.RouteArgs(route), "--drain-timeout", "5s"],
                "impersonate.sock"),
            LocalStack.StartTimeout,
            stop));
        await CheckOddAudienceAsync(sidecar, "impersonation");
        await CheckCallsThroughRouteAsync(route);
        await StopCleanlyAsync(sidecar.Process);
        await SetIdentityRefusalAsync(http, "null", stop);
        output.WriteLine("impersonation (the metadata server refusing ID tokens): exact token on the socket, authenticated calls through the route");
    }

    private static async Task SetIdentityRefusalAsync(HttpClient http, string refusal, CancellationToken stop)
    {
        using var body = new StringContent($"{{\"identityRefusal\": {refusal}}}", Encoding.UTF8, "application/json");
        using var answer = await http.PostAsync(new Uri("emulator/faults", UriKind.Relative), body, stop);
        Require(answer.StatusCode == HttpStatusCode.OK, $"the metadata emulator did not take the identity refusal {refusal} ({(int)answer.StatusCode})");
    }

    /// <summary>
    /// Application Default Credentials, every kind the sidecar claims. The files name the emulator's OAuth2 token
    /// endpoint (token_uri), Security Token Service (token_url) and generateIdToken (service_account_impersonation_url);
    /// GCE_METADATA_HOST names a closed port.
    /// </summary>
    private async Task CheckApplicationDefaultCredentialsAsync(LocalStack stack, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = stack.MetadataAddress, Timeout = StopTimeout };
        using var created = await http.PostAsync(new Uri("emulator/service-account-key", UriKind.Relative), content: null, stop);
        Require(created.StatusCode == HttpStatusCode.OK, $"no service-account key from the emulator ({(int)created.StatusCode})");
        var key = await created.Content.ReadAsStringAsync(stop);
        var impersonated = new JsonObject
        {
            ["type"] = "impersonated_service_account",
            ["delegates"] = new JsonArray(),
            ["source_credentials"] = JsonNode.Parse(key),
            ["service_account_impersonation_url"] = new Uri(
                stack.MetadataAddress, $"v1/projects/-/serviceAccounts/{(string)JsonNode.Parse(key)!["client_email"]!}:generateAccessToken").AbsoluteUri,
        };
        // external_account: a projected Kubernetes token file (its token fetched once from the emulator's subject-token
        // URL, which its STS trusts), and the URL itself with a JSON answer and the header it wants.
        using var subjectTokenRequest = new HttpRequestMessage(HttpMethod.Get, ExternalAccountFile.SubjectTokenUrl(stack.MetadataAddress, ExternalAccountFile.KubernetesSubject, json: false));
        foreach (var (name, value) in ExternalAccountFile.SubjectTokenHeaders)
        {
            subjectTokenRequest.Headers.Add(name, value);
        }

        using var subjectToken = await http.SendAsync(subjectTokenRequest, stop);
        Require(subjectToken.StatusCode == HttpStatusCode.OK, $"no subject token from the emulator ({(int)subjectToken.StatusCode})");
        var tokenFile = PrivateFile.Write(stack.Directory.File("ksa-token"), await subjectToken.Content.ReadAsStringAsync(stop));
        var externalFile = ExternalAccountFile.Json(stack.MetadataAddress, ServiceAccount, ExternalAccountFile.FileSource(tokenFile));
        var externalUrl = ExternalAccountFile.Json(
            stack.MetadataAddress, ServiceAccount, ExternalAccountFile.UrlSource(stack.MetadataAddress, ExternalAccountFile.KubernetesSubject, json: true));
        foreach (var (kind, credentials) in new[]
        {
            ("key", key), ("impersonated", impersonated.ToJsonString()), ("external_account, file", externalFile), ("external_account, url", externalUrl),
        })
        {
            var file = PrivateFile.Write(stack.Directory.File($"adc-{kind.Replace(", ", "-", StringComparison.Ordinal)}.json"), credentials);
            var route = FreePort.Next();
            // Nothing listens where the metadata server would be: the tokens can only come from the credentials file.
            var adc = Sidecar(stack, ["--token-source", "adc", "--audience", OddAudience, .. stack.RouteArgs(route), "--drain-timeout", "5s"], "adc.sock") with
            {
                MetadataHost = $"127.0.0.1:{FreePort.Next()}",
                Environment = new Dictionary<string, string> { ["GOOGLE_APPLICATION_CREDENTIALS"] = file },
            };
            using var sidecar = await SidecarProcess.StartAsync(adc, LocalStack.StartTimeout, stop);
            await CheckOddAudienceAsync(sidecar, $"adc ({kind})");
            await CheckCallsThroughRouteAsync(route);
            await StopCleanlyAsync(sidecar.Process);
            output.WriteLine($"adc ({kind}): exact token on the socket, authenticated calls through the route");
        }

        var user = PrivateFile.Write(
            stack.Directory.File("adc-user.json"), """{"type": "authorized_user", "client_id": "id", "client_secret": "secret", "refresh_token": "refresh"}""");
        using var refused = SidecarProcess.Launch(Sidecar(stack, ["--token-source", "adc", "--audience", OddAudience], "adc.sock") with
        {
            MetadataHost = null,
            Environment = new Dictionary<string, string> { ["GOOGLE_APPLICATION_CREDENTIALS"] = user },
        });
        await refused.WaitForExitAsync(ChildProcess.DefaultRunTimeout, stop);
        Require(refused.ExitCode == 2, $"adc with user credentials exited {refused.ExitCode}, not 2");
        Require(refused.Stderr.Contains("--impersonate-service-account", StringComparison.Ordinal), $"adc with user credentials: no advice on stderr: {refused.Stderr}");
        output.WriteLine("adc (authorized_user): refused at start with exit 2");
    }

    /// <summary>
    /// The sample client, which has no auth code, calls through the route; the service must see the sidecar's
    /// identity. Emulated, a sidecar's first TLS handshake with the upstream takes seconds of CPU (OpenSSL's start-up and
    /// the code the emulator translates once), which on a busy machine can exceed its connect timeout: the client is
    /// run again until its calls get through, as the check is what the build does, not how fast it is emulated.
    /// </summary>
    private async Task CheckCallsThroughRouteAsync(int routePort)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var (exitCode, stdout, stderr) = await ChildProcess.RunAsync(
                programs.SampleWorkload, ["client", "--target", $"http://127.0.0.1:{routePort}", "--duration", "2s", "--rate", "5", "--stream-messages", "2", "--stream-interval", "100ms"]);
            var summary = stdout.Split('\n').Select(line => ClientOutput.TryParseSummary(line, out var parsed) ? parsed : null).LastOrDefault(parsed => parsed is not null);
            if (exitCode == 0 && summary is { Ok: > 0, Failed: 0 })
            {
                Require(summary.Identities.Contains(ServiceAccount), $"the service did not see the caller's ID token (it saw {string.Join(", ", summary.Identities)})");
                return;
            }

            Require(options.Emulator is not null && deadline.Elapsed < EmulatedFirstCallLimit, $"gRPC calls through the route failed: {summary?.ToString() ?? stdout + stderr}");
        }
    }

    private async Task CheckWebhookAsync(LocalStack stack, CancellationToken stop)
    {
        using var certificate = stack.Authority.IssueServerCertificate("127.0.0.1");
        var (certificateFile, keyFile) = DevCertificateAuthority.WritePem(certificate, stack.Directory.Path, "webhook");
        var port = FreePort.Next();
        // Without a kubeconfig it runs without service account checks.
        var webhook = StartWebhook(stack, ["--listen", $"127.0.0.1:{port}", "--tls-cert-file", certificateFile, "--tls-key-file", keyFile]);
        using var https = new HttpClient(stack.Authority.CreateHttpHandler()) { BaseAddress = new Uri($"https://127.0.0.1:{port}/"), Timeout = StopTimeout };
        await WaitUntilReadyAsync(webhook, https, stop);
        var patch = await ReviewAsync(https, "aot-smoke-1", stop);
        output.WriteLine($"webhook (certificate files): allowed with a patch of {patch} operations");
        await ValidateClashingDeploymentAsync(https, stop);
        await StopCleanlyAsync(webhook);
    }

    /// <summary>
    /// The webhook keeping its own certificate against the API server stand-in: it creates the Secret, writes the CA
    /// into the caBundle of every entry of both configurations, and answers an AdmissionReview over HTTPS to a client
    /// that trusts that caBundle alone, by the Service's DNS name, as the API server would.
    /// </summary>
    private async Task CheckSelfManagedWebhookAsync(LocalStack stack, CancellationToken stop)
    {
        const string Namespace = "token-injector";
        const string Service = "token-injector-webhook";
        const string DnsName = $"{Service}.{Namespace}.svc";
        await using var api = await FakeApiServer.StartAsync(stack.Authority, stack.Directory.Path, stop);
        api.PutWebhookConfiguration("mutatingwebhookconfigurations", "token-injector", Namespace, Service, "inject.token-injector.dev");
        api.PutWebhookConfiguration("validatingwebhookconfigurations", "token-injector-workloads", Namespace, Service, "workloads.token-injector.dev");
        var port = FreePort.Next();
        var webhook = StartWebhook(stack, [
            "--listen", $"127.0.0.1:{port}", "--tls-secret", "token-injector-webhook-tls", "--tls-dns-name", DnsName, "--namespace", Namespace,
            "--mutating-webhook-configuration", "token-injector", "--validating-webhook-configuration", "token-injector-workloads",
            "--kubeconfig", api.KubeconfigFile, "--tls-reload-interval", "1s",
        ]);
        // The webhook writes one configuration after the other, so both are awaited before they are compared.
        var deadline = Stopwatch.StartNew();
        while (api.CaBundles("mutatingwebhookconfigurations", "token-injector") is not [{ Length: > 0 }]
            || api.CaBundles("validatingwebhookconfigurations", "token-injector-workloads") is not [{ Length: > 0 }])
        {
            Require(!webhook.HasExited, $"the self-managed webhook exited with {(webhook.HasExited ? webhook.ExitCode : 0)} before it wrote a caBundle");
            Require(deadline.Elapsed < ChildProcess.DefaultRunTimeout, "the self-managed webhook wrote no caBundle in time");
            await Task.Delay(TimeSpan.FromMilliseconds(100), stop);
        }

        var bundle = api.CaBundles("mutatingwebhookconfigurations", "token-injector")[0];
        Require(api.CaBundles("validatingwebhookconfigurations", "token-injector-workloads") is [var validating] && validating == bundle, "the validating configuration's caBundle differs");
        Require(api.Get("secrets", Namespace, "token-injector-webhook-tls")?["type"]?.GetValue<string>() == "kubernetes.io/tls", "no kubernetes.io/tls Secret was created");
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPem(bundle);
        using var https = new HttpClient(LoopbackHttp.Handler(new IPEndPoint(IPAddress.Loopback, port), trusted))
        {
            BaseAddress = new Uri($"https://{DnsName}:{port}/"),
            Timeout = StopTimeout,
        };
        await WaitUntilReadyAsync(webhook, https, stop);
        var patch = await ReviewAsync(https, "aot-smoke-2", stop);
        var metrics = await https.GetStringAsync(new Uri("metrics", UriKind.Relative), stop);
        Require(metrics.Contains("\ntoken_injector_webhook_certificate_expiry_timestamp_seconds ", StringComparison.Ordinal), "/metrics has no certificate expiry");
        output.WriteLine($"webhook (self-managed certificate): Secret created, caBundle written, allowed with a patch of {patch} operations over a connection trusting only the caBundle");
        await StopCleanlyAsync(webhook);
    }

    /// <summary>The sidecar under test against <paramref name="stack"/>, run by the emulator when it is built for another machine.</summary>
    private SidecarLaunch Sidecar(LocalStack stack, IReadOnlyList<string> args, string socketName) =>
        stack.Sidecar(options.Injector, args, socketName) with { Emulator = options.Emulator };

    /// <summary>
    /// <c>injector webhook</c>, through the sidecar build, which execs injector-webhook in the same process. (Emulated,
    /// injector-webhook itself: the exec of a file for another machine needs the kernel's binfmt_misc hook, which a CI
    /// machine may not have.)
    /// </summary>
    private ChildProcess StartWebhook(LocalStack stack, string[] arguments)
    {
        string[] all = ["webhook", .. arguments, "--sidecar-image", "token-injector:smoke"];
        return stack.Track(options.Emulator is { } emulator
            ? ChildProcess.Start(emulator, [options.Webhook, .. all], name: "injector webhook")
            : ChildProcess.Start(options.Injector, all, name: "injector webhook"));
    }

    private static async Task WaitUntilReadyAsync(ChildProcess webhook, HttpClient https, CancellationToken stop)
    {
        var deadline = Stopwatch.StartNew();
        while (!await AnswersOkAsync(https, "readyz", stop))
        {
            Require(!webhook.HasExited, $"the webhook exited with {(webhook.HasExited ? webhook.ExitCode : 0)} before /readyz answered");
            Require(deadline.Elapsed < ChildProcess.DefaultRunTimeout, "the webhook's /readyz did not answer 200 in time");
            await Task.Delay(TimeSpan.FromMilliseconds(100), stop);
        }
    }

    /// <summary>One AdmissionReview of the smoke pod: allowed, with a patch that adds the sidecar; returns the patch's length.</summary>
    private async Task<int> ReviewAsync(HttpClient https, string uid, CancellationToken stop)
    {
        var review = new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = uid,
                ["kind"] = new JsonObject { ["group"] = string.Empty, ["version"] = "v1", ["kind"] = "Pod" },
                ["operation"] = "CREATE",
                ["namespace"] = "apps",
                ["object"] = JsonNode.Parse(await File.ReadAllTextAsync(options.Pod, stop)),
            },
        };
        using var content = new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json");
        using var answer = await https.PostAsync(new Uri("mutate", UriKind.Relative), content, stop);
        Require(answer.StatusCode == HttpStatusCode.OK, $"POST /mutate answered {(int)answer.StatusCode}");
        var response = JsonNode.Parse(await answer.Content.ReadAsStringAsync(stop))!["response"]!;
        Require((string?)response["uid"] == uid && (bool?)response["allowed"] == true, $"the AdmissionReview answer: {response.ToJsonString()}");
        var patch = JsonNode.Parse(Convert.FromBase64String((string)response["patch"]!))!.AsArray();
        Require(
            patch.Any(operation => (string?)operation!["op"] == "add" && operation["value"]?.ToJsonString().Contains("token-injector", StringComparison.Ordinal) == true),
            "the patch adds no token-injector container");
        return patch.Count;
    }

    /// <summary>
    /// The validating check on workloads: the smoke pod as a Deployment's template, with a container on the sidecar's
    /// admin port, is denied by /validate with the pod's message, and never patched.
    /// </summary>
    private async Task ValidateClashingDeploymentAsync(HttpClient https, CancellationToken stop)
    {
        var template = JsonNode.Parse(await File.ReadAllTextAsync(options.Pod, stop))!;
        template["spec"]!["containers"]![0]!["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 9464 });
        var review = new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = "aot-smoke-validate",
                ["kind"] = new JsonObject { ["group"] = "apps", ["version"] = "v1", ["kind"] = "Deployment" },
                ["operation"] = "CREATE",
                ["namespace"] = "apps",
                ["object"] = new JsonObject
                {
                    ["apiVersion"] = "apps/v1",
                    ["kind"] = "Deployment",
                    ["metadata"] = new JsonObject { ["name"] = "smoke", ["namespace"] = "apps" },
                    ["spec"] = new JsonObject { ["template"] = new JsonObject { ["metadata"] = template["metadata"]!.DeepClone(), ["spec"] = template["spec"]!.DeepClone() } },
                },
            },
        };
        using var workload = new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json");
        using var verdict = await https.PostAsync(new Uri("validate", UriKind.Relative), workload, stop);
        Require(verdict.StatusCode == HttpStatusCode.OK, $"POST /validate answered {(int)verdict.StatusCode}");
        var denial = JsonNode.Parse(await verdict.Content.ReadAsStringAsync(stop))!["response"]!;
        Require(
            (string?)denial["uid"] == "aot-smoke-validate" && (bool?)denial["allowed"] == false && denial["patch"] is null
            && ((string?)denial["status"]?["message"])?.Contains("uses port 9464, which container", StringComparison.Ordinal) == true,
            $"the validating answer for a Deployment that clashes on a port: {denial.ToJsonString()}");
        output.WriteLine("webhook: a Deployment clashing on the admin port denied by /validate");
    }

    /// <summary>The injector, run to its end (under the emulator when there is one).</summary>
    private Task<(int ExitCode, string Stdout, string Stderr)> RunInjectorAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null) =>
        options.Emulator is { } emulator
            ? ChildProcess.RunAsync(emulator, [options.Injector, .. args], environment)
            : ChildProcess.RunAsync(options.Injector, args, environment);

    private static async Task<bool> AnswersOkAsync(HttpClient client, string path, CancellationToken stop)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), stop);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$")]
    private static partial Regex Jwt();
}
