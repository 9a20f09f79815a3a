using System.Net;
using System.Text.Json;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>The built <c>emulators metadata</c> executable, as the demo and the process-level tests run it.</summary>
public sealed class MetadataProcessTests
{
    [Fact]
    public async Task EmulatorsMetadata_ServesTokensAndStats_AndExitsZeroOnSigterm()
    {
        var port = FreePort.Next();
        using var process = ChildProcess.StartAssembly("emulators.dll", ["metadata", "--listen", $"127.0.0.1:{port}", "--gke-cache"]);
        await process.WaitForLineAsync(line => line.StartsWith("metadata emulator listening on ", StringComparison.Ordinal));
        Assert.Equal($"metadata emulator listening on http://127.0.0.1:{port} (jwks http://127.0.0.1:{port}/oauth2/v3/certs)", process.Stdout.Split('\n')[0]);

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TestWait.Limit };
        using var request = new HttpRequestMessage(
            HttpMethod.Get, "computeMetadata/v1/instance/service-accounts/default/identity?audience=https://svc.a.run.app&format=full");
        request.Headers.Add("Metadata-Flavor", "Google");
        using var response = await client.SendAsync(request).Bounded();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var jwt = await response.Content.ReadAsStringAsync().Bounded();
        Assert.Equal("https://svc.a.run.app", DecodeSegment(jwt, 1).GetProperty("aud").GetString());

        using var stats = JsonDocument.Parse(await client.GetStringAsync("emulator/stats").Bounded());
        Assert.Equal(1, stats.RootElement.GetProperty("identityRequests").GetProperty("https://svc.a.run.app").GetInt32());
        Assert.Equal(1, stats.RootElement.GetProperty("totalIdentityRequests").GetInt32());

        await process.TerminateAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task EmulatorsMetadata_BadArguments_ExitsTwoWithOneLinePerError()
    {
        var (exitCode, stdout, stderr) = await ChildProcess.RunAssemblyAsync("emulators.dll", ["metadata", "--bogus", "--token-lifetime", "x"]);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.Equal(
            ["emulators metadata: error: unknown option '--bogus' (see 'emulators metadata --help')", "emulators metadata: error: --token-lifetime: 'x' is not a duration from 1s to 86400s (write e.g. 500ms, 30s, 10m)"],
            stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task EmulatorsUnknownRole_NamesIt_ExitsTwo_WhileHelpListsBothEmulators()
    {
        var (exitCode, _, stderr) = await ChildProcess.RunAssemblyAsync("emulators.dll", ["gce"]);
        var (helpExit, help, _) = await ChildProcess.RunAssemblyAsync("emulators.dll", ["--help"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("emulators: error: unexpected argument 'gce': options start with -- (see 'emulators --help')", stderr, StringComparison.Ordinal);
        Assert.Contains("emulators: error: a command is required: one of metadata, cloud-run (see 'emulators --help')", stderr, StringComparison.Ordinal);
        Assert.Equal(0, helpExit);
        Assert.Matches(@"(?m)^  metadata +\S", help);
        Assert.Matches(@"(?m)^  cloud-run +\S", help);
    }
}
