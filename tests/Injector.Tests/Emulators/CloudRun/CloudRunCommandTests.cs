using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using TokenInjector.DevCommandLine;
using TokenInjector.DevStack.Certificates;
using TokenInjector.Emulators;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.Emulators.CloudRun.CloudRunEmulatorFixture;

namespace TokenInjector.Tests.Emulators.CloudRun;

public sealed partial class CloudRunCommandTests(CloudRunEmulatorFixture fixture) : IClassFixture<CloudRunEmulatorFixture>
{
    [Fact]
    public async Task RunAsync_BadArguments_Exit2WithOneLinePerError()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await RunAsync(["--bogus", "--upstream", "not a url", "--request-timeout", "-1", "--listen"], output, error, CancellationToken.None)
            .WaitAsync(TestWait.Limit);

        const string Prefix = "emulators cloud-run: error: ";
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, exitCode);
        Assert.All(lines, line => Assert.StartsWith(Prefix, line, StringComparison.Ordinal));
        Assert.Equal(
            [
                "unknown option '--bogus' (see 'emulators cloud-run --help')", "--listen: a value is required (HOST:PORT)", "--service-url: required", "--upstream: 'not a url' is not an http:// URL",
                "--cert: required", "--key: required", "--jwks-url: required", "--request-timeout: '-1' is not a duration from 1ms to 86400s (write e.g. 500ms, 30s, 10m)",
            ],
            lines.Select(line => line[Prefix.Length..]));
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task RunAsync_PemFiles_PrintsListeningLineServesAndStops()
    {
        var directory = Directory.CreateTempSubdirectory("cloud-run-emulator-");
        try
        {
            var (certificatePath, keyPath) = DevCertificateAuthority.WritePem(fixture.ServerCertificate, directory.FullName, "server");
            using var output = new LineSignalWriter();
            using var error = new StringWriter();
            using var stop = new CancellationTokenSource();

            var run = RunAsync(
                [
                    "--listen", "127.0.0.1:0", "--service-url", ServiceUrl, "--upstream", fixture.Upstream.Uri.ToString(),
                    "--cert", certificatePath, "--key", keyPath, "--jwks-url", fixture.Issuer.JwksUri.ToString(),
                    "--invoker", TestTokenIssuer.DefaultEmail, "--request-timeout", "30s",
                ],
                output, error, stop.Token);
            var line = await output.FirstLine.WaitAsync(TestWait.Limit);
            var match = ListeningLine().Match(line);
            Assert.True(match.Success, line);
            var port = int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture);

            using var http = new HttpClient(fixture.Authority.CreateHttpHandler(new IPEndPoint(IPAddress.Loopback, port)))
            {
                BaseAddress = new Uri($"https://{ServiceHost}:{port}"),
                Timeout = TestWait.Limit,
            };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/headers");
            request.Headers.Authorization = new("Bearer", fixture.Issuer.CreateIdToken(ServiceUrl));
            using var response = await http.SendAsync(request).WaitAsync(TestWait.Limit);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            await stop.CancelAsync();
            Assert.Equal(0, await run.WaitAsync(TestWait.Limit));
            Assert.Empty(error.ToString());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken stop) =>
        DevCommand.InvokeAsync(EmulatorsCommand.Create(), ["cloud-run", .. args], output, error, stop);

    [GeneratedRegex(@"^cloud-run emulator listening on https://127\.0\.0\.1:(?<port>\d+) for https://hello-abc123-uc\.a\.run\.app$")]
    private static partial Regex ListeningLine();

    /// <summary>Lets a test await the first line the command prints, instead of polling.</summary>
    private sealed class LineSignalWriter : StringWriter
    {
        private readonly TaskCompletionSource<string> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<string> FirstLine => _firstLine.Task;

        public override async Task WriteLineAsync(string? value)
        {
            await base.WriteLineAsync(value);
            _firstLine.TrySetResult(value ?? string.Empty);
        }
    }
}
