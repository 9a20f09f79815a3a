using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts.Monitoring;

/// <summary>A real Prometheus (Debian's) on a free loopback port, with its TSDB in a temp directory, and its query API.</summary>
internal sealed class PrometheusServer : IDisposable
{
    private readonly ChildProcess _process;
    private readonly TempDirectory _directory;
    private readonly HttpClient _client;

    private PrometheusServer(ChildProcess process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string Output => _process.Output;

    /// <summary>Starts Prometheus with <paramref name="configuration"/> (YAML) and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(string configuration, IReadOnlyDictionary<string, string> files)
    {
        var directory = new TempDirectory();
        foreach (var (name, content) in files)
        {
            await File.WriteAllTextAsync(directory.File(name), content);
        }

        await File.WriteAllTextAsync(directory.File("prometheus.yml"), configuration);
        var port = FreePort.Next();
        var process = ChildProcess.Start(ChartTools.Prometheus,
        [
            "--config.file=" + directory.File("prometheus.yml"), "--storage.tsdb.path=" + directory.File("data"),
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        ]);
        var server = new PrometheusServer(process, directory, port);
        var ready = await TestWait.PollAsync(async () => process.HasExited || await server.ReadyAsync(), TimeSpan.FromMilliseconds(100));
        Assert.True(ready && !process.HasExited, "Prometheus did not start:\n" + process.Output);
        return server;
    }

    /// <summary>The result vector of an instant query now.</summary>
    public async Task<JsonArray> QueryAsync(string query)
    {
        var answer = JsonNode.Parse(await _client.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(query)).Bounded())!;
        Assert.True(answer["status"]!.GetValue<string>() == "success", $"{query}: {answer.ToJsonString()}");
        return answer["data"]!["result"]!.AsArray();
    }

    public void Dispose()
    {
        _client.Dispose();
        _process.Dispose();
        _directory.Dispose();
    }

    private async Task<bool> ReadyAsync()
    {
        try
        {
            using var response = await _client.GetAsync("/-/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
