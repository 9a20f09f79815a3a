using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using TokenInjector.Commands;
using TokenInjector.Configuration;
using TokenInjector.DevStack.Certificates;
using TokenInjector.DevStack.Stack;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Upstream TLS verification cannot be turned off: no option of any role is a switch for it, and a route to an upstream
/// whose certificate the sidecar must not trust never reaches it, whatever the combination of trust-related flags.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class UpstreamVerificationTests
{
    private const string Host = "svc-abc123-uc.a.run.app";

    // Words that would name a way around verification.
    private static readonly string[] Suspicious = ["insecure", "skip", "verify", "trust-all", "no-tls", "disable", "unsafe", "plaintext", "allow-invalid"];

    [Fact]
    public async Task NoOptionDisablesVerification_AndNoFlagCombinationReachesAnUntrustedUpstream()
    {
        var options = new[] { SidecarSettings.Command, WebhookSettings.Command, TokenCommand.Command }
            .SelectMany(command => command.Options.Select(option => (command.Command, option)))
            .ToList();
        var suspicious = options
            .Where(o => Suspicious.Any(word => o.option.Name.Contains(word, StringComparison.OrdinalIgnoreCase) || o.option.Help.Contains(word, StringComparison.OrdinalIgnoreCase)))
            .Select(o => $"{o.Command} {o.option.Flag}")
            .ToList();

        using var directory = new TempDirectory();
        using var untrusted = DevCertificateAuthority.Create("untrusted CA");
        using var other = DevCertificateAuthority.Create("another CA");
        var otherCa = other.WriteCaPem(directory.Path, "other-ca.pem");
        var untrustedCa = untrusted.WriteCaPem(directory.Path, "untrusted-ca.pem");
        await using var metadata = await MetadataEmulator.StartAsync(new MetadataEmulatorOptions()).Bounded();
        await using var upstream = await CountingUpstream.StartAsync(untrusted, "not-" + Host);

        // The last combination trusts the upstream's CA but its certificate names another host: still refused.
        var combinations = new Dictionary<string, string[]>
        {
            ["default flags"] = [],
            ["--upstream-ca-file of another CA"] = ["--upstream-ca-file", otherCa],
            ["another CA, x-serverless-authorization"] = ["--upstream-ca-file", otherCa, "--auth-header", "x-serverless-authorization"],
            ["the right CA, the wrong host name"] = ["--upstream-ca-file", untrustedCa],
        };
        var answers = new List<string>();
        foreach (var (name, flags) in combinations)
        {
            using var sidecarDirectory = new TempDirectory();
            var routePort = FreePort.Next();
            var launch = new SidecarLaunch(
                TestPrograms.Injector,
                ["--route", $"{routePort}=https://{Host}:{upstream.Port}", "--resolve", $"{Host}:{upstream.Port}:127.0.0.1", .. flags])
            {
                SocketPath = sidecarDirectory.File("sidecar.sock"),
                MetadataHost = metadata.HostAndPort,
            };
            using var sidecar = await SidecarProcess.StartAsync(launch, TestWait.Limit);
            using var client = new HttpClient { Timeout = TestWait.Limit };
            using var response = await client.GetAsync($"http://127.0.0.1:{routePort}/anything").Bounded();
            answers.Add($"{name}: {(int)response.StatusCode}");
        }

        var passed = suspicious.Count == 0 && upstream.Requests == 0 && answers.All(a => a.EndsWith(": 502", StringComparison.Ordinal));
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Security,
            "upstream TLS verification cannot be disabled",
            [
                $"options scanned: {options.Count}, naming a way around verification: {suspicious.Count}",
                $"flag combinations against an untrusted upstream: {combinations.Count}",
                "answers: " + string.Join(", ", answers),
                $"requests that reached the upstream: {upstream.Requests}",
            ],
            passed)
        {
            Note = string.Join(", ", suspicious),
        });

        Assert.Empty(suspicious);
        Assert.Equal(0, upstream.Requests);
        Assert.All(answers, answer => Assert.EndsWith(": 502", answer, StringComparison.Ordinal));
    }

    /// <summary>An HTTPS server with a certificate from <c>authority</c> for <c>certificateHost</c>, counting what reaches it.</summary>
    private sealed class CountingUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private CountingUpstream(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<CountingUpstream> StartAsync(DevCertificateAuthority authority, string certificateHost)
        {
            var certificate = authority.IssueServerCertificate(certificateHost);
            var app = LoopbackWebApp.CreateBuilder(listen => listen.UseHttps(certificate)).Build();
            var upstream = new CountingUpstream(app);
            app.Run(context =>
            {
                Interlocked.Increment(ref upstream._requests);
                return context.Response.WriteAsync("reached");
            });
            upstream.Port = new Uri(await LoopbackWebApp.StartAsync(app)).Port;
            return upstream;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync().Bounded();
            await _app.DisposeAsync();
        }
    }
}
