using System.Diagnostics;
using System.Net;
using System.Text.Json;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>The built <c>emulators metadata</c> executable, as the demo and the process-level tests run it.</summary>
public sealed class MetadataProcessTests
{
    [Fact]
    public async Task EmulatorsMetadata_ServesTokensAndStats_AndExitsZeroOnSigterm()
    {
        var port = FreeTcpPort();
        using var process = StartEmulatorProcess("metadata", "--listen", $"127.0.0.1:{port}", "--gke-cache");
        try
        {
            var line = await ReadLineAsync(process).Bounded();
            Assert.Equal($"metadata emulator listening on http://127.0.0.1:{port} (jwks http://127.0.0.1:{port}/oauth2/v3/certs)", line);

            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = MetadataTestSupport.Timeout };
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

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync().Bounded();
            }

            await process.WaitForExitAsync().Bounded();
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [Fact]
    public async Task EmulatorsMetadata_BadArguments_ExitsTwoWithOneLinePerError()
    {
        using var process = StartEmulatorProcess("metadata", "--bogus", "--token-lifetime", "x");

        var stderr = await process.StandardError.ReadToEndAsync().Bounded();
        await process.WaitForExitAsync().Bounded();

        Assert.Equal(2, process.ExitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("metadata: unknown argument '--bogus'", lines[0]);
        Assert.Equal("metadata: --token-lifetime must be a whole number >= 1, not 'x'", lines[1]);
        Assert.StartsWith("usage:", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmulatorsUnknownRole_PrintsUsage_ExitsTwo()
    {
        using var process = StartEmulatorProcess("gce");

        var stderr = await process.StandardError.ReadToEndAsync().Bounded();
        await process.WaitForExitAsync().Bounded();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("usage: emulators metadata|cloud-run", stderr, StringComparison.Ordinal);
    }

    private static Process StartEmulatorProcess(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "emulators.dll");
        Assert.True(File.Exists(dll), $"{dll} not found next to the test assembly");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the emulators process");
    }

    private static async Task<string?> ReadLineAsync(Process process) => await process.StandardOutput.ReadLineAsync();
}
