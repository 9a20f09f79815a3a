using System.Net;
using TokenInjector.DevStack.Stack;
using TokenInjector.Emulators.Metadata;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Where a sidecar process could hand out a token: only its Unix socket, with the file mode asked for. Its TCP
/// listeners (admin and routes) answer token API requests, over HTTP/1.1 and HTTP/2, without a token.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class TokenExposureTests
{
    private const string Audience = "https://exposure-abc123-uc.a.run.app";

    private static readonly string[] Targets =
    [
        "/v1/token?audience=" + Uri.EscapeDataString(Audience), "/v1/token?audience=https://other.example", "//v1/token?audience=" + Uri.EscapeDataString(Audience),
        "/v1/token/../v1/token?audience=" + Uri.EscapeDataString(Audience), "/token", "/",
    ];

    [Fact]
    public async Task TcpListeners_NeverServeATokenOverHttp1OrHttp2_AndTheSocketHasTheRequestedMode()
    {
        await using var metadata = await MetadataEmulator.StartAsync(new MetadataEmulatorOptions()).Bounded();
        using var directory = new TempDirectory();
        using var upstreamDirectory = new TempDirectory();
        var routePort = FreePort.Next();
        var deadUpstream = FreePort.Next();
        var launch = new SidecarLaunch(
            TestPrograms.Injector,
            [
                "--audience", Audience, "--route", $"{routePort}=https://svc-abc123-uc.a.run.app:{deadUpstream}",
                "--resolve", $"svc-abc123-uc.a.run.app:{deadUpstream}:127.0.0.1",
            ])
        {
            SocketPath = directory.File("sidecar.sock"),
            MetadataHost = metadata.HostAndPort,
        };
        using var sidecar = await SidecarProcess.StartAsync(launch, TestWait.Limit);
        using var strict = await SidecarProcess.StartAsync(
            launch with { Args = ["--audience", Audience, "--socket-mode", "0600"], SocketPath = upstreamDirectory.File("sidecar.sock") }, TestWait.Limit);
        using (var proof = await sidecar.GetTokenAsync(Audience))
        {
            Assert.Equal(HttpStatusCode.OK, proof.StatusCode);
        }

        var probes = 0;
        var tokens = new List<string>();
        foreach (var port in new[] { sidecar.Admin.Port, routePort })
        {
            foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
            {
                using var client = new HttpClient { Timeout = TestWait.Limit };
                foreach (var target in Targets)
                {
                    probes++;
                    using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}{target}")
                    {
                        Version = version,
                        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                    };
                    request.Headers.Accept.ParseAdd("application/json");
                    try
                    {
                        using var response = await client.SendAsync(request).Bounded();
                        var answer = response.Headers + "\n" + await response.Content.ReadAsStringAsync().Bounded();
                        if (TokenLeakScanner.CountLeaks(answer) > 0)
                        {
                            tokens.Add($"{port} {version} {target}: {TokenLeakScanner.Describe(answer, "the answer")}");
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // The admin listener speaks HTTP/1.1 only: an HTTP/2 request fails, which serves no token either.
                    }
                }
            }
        }

        var defaultMode = File.GetUnixFileMode(sidecar.SocketPath);
        var strictMode = File.GetUnixFileMode(strict.SocketPath);
        const UnixFileMode Expected0660 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        const UnixFileMode Expected0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

        var passed = tokens.Count == 0 && defaultMode == Expected0660 && strictMode == Expected0600;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Security,
            "token API unreachable over TCP; socket mode",
            [
                $"token requests to the admin and route ports (HTTP/1.1 and HTTP/2): {probes}",
                $"tokens served over TCP: {tokens.Count}",
                $"socket mode default: {Octal(defaultMode)}, with --socket-mode 0600: {Octal(strictMode)}",
            ],
            passed)
        {
            Note = string.Join("; ", tokens.Take(3)),
        });

        Assert.Empty(tokens);
        Assert.Equal(Expected0660, defaultMode);
        Assert.Equal(Expected0600, strictMode);
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);
}
