using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Grpc.Core;
using TokenInjector.DevStack.Stack;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Commands;

/// <summary>The built <c>injector</c> executable as a real process, against the in-process emulators.</summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class SidecarProcessTests
{
    [Fact]
    public async Task Sigterm_DuringHundredStreamingCalls_AllFinish_NewConnectionsRefused_ExitZero()
    {
        await using var stack = await CloudRunStack.StartAsync();
        using var sidecar = SidecarProcess.Launch(stack.Sidecar([.. stack.RouteArgs(), "--drain-timeout", "20s"]));
        await sidecar.WaitForLineAsync(line => line.Contains("New token for", StringComparison.Ordinal));
        using var channel = stack.RouteChannel();
        var client = new Echo.EchoClient(channel);
        var started = 0;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task<int> StreamAsync(int id)
        {
            using var call = client.ServerStream(new StreamRequest { Message = "s" + id, Count = 20, IntervalMs = 100 }, deadline: TestWait.Deadline());
            var received = 0;
            await foreach (var reply in call.ResponseStream.ReadAllAsync())
            {
                if (received++ == 0 && Interlocked.Increment(ref started) == 100)
                {
                    allStarted.SetResult();
                }
            }

            return received;
        }

        var streams = Enumerable.Range(0, 100).Select(StreamAsync).ToArray();
        await allStarted.Task.Bounded();
        await sidecar.TerminateAsync();
        await sidecar.WaitForLineAsync(line => line.Contains("Stopping routes", StringComparison.Ordinal));

        // The port refuses new connections while the streams still run: it stops accepting first, then drains.
        var streamsDone = Task.WhenAll(streams);
        await TestWait.UntilAsync(() => ConnectionRefusedAsync(stack.RoutePort), TimeSpan.FromMilliseconds(20));
        Assert.False(streamsDone.IsCompleted, "the route port refused connections only once every stream had ended");
        var received = await streamsDone.Bounded();
        Assert.All(received, count => Assert.Equal(20, count));
        await sidecar.WaitForExitAsync();
        Assert.Equal(0, sidecar.ExitCode);
    }

    [Fact]
    public async Task CleanRunWithRoutes_LogsNoWarningOrError()
    {
        await using var stack = await CloudRunStack.StartAsync();
        using var sidecar = SidecarProcess.Launch(stack.Sidecar(stack.RouteArgs()));
        await sidecar.WaitForLineAsync(line => line.Contains("New token for", StringComparison.Ordinal));
        using var channel = stack.RouteChannel();
        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "quiet" }, deadline: TestWait.Deadline());
        Assert.Equal("quiet", reply.Message);
        await sidecar.TerminateAsync();
        await sidecar.WaitForExitAsync();

        Assert.Equal(0, sidecar.ExitCode);
        var loud = sidecar.Output.Split('\n').Where(line => line.Contains(" warn: ", StringComparison.Ordinal)
            || line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal));
        Assert.Empty(loud);
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task LogsOfAFullRun_NeverContainAToken(string format)
    {
        await using var stack = await CloudRunStack.StartAsync(tokenLifetime: TimeSpan.FromSeconds(6));
        var launch = stack.Sidecar([.. stack.RouteArgs(), "--log-format", format, "--log-level", "debug"]);
        var socket = launch.SocketPath!;
        using var sidecar = SidecarProcess.Launch(launch);
        await sidecar.WaitForLineAsync(line => line.Contains("New token for", StringComparison.Ordinal));
        using var tokenApi = LoopbackHttp.UnixSocketClient(socket, TestWait.Limit);
        using var channel = stack.RouteChannel();
        var client = new Echo.EchoClient(channel);
        var tokens = new HashSet<string>();

        // A full run: tokens over the socket until one has been refreshed, proxied calls, bad requests, metadata errors.
        await TestWait.UntilAsync(
            async () =>
            {
                tokens.Add(await tokenApi.GetStringAsync("/v1/token?audience=" + Uri.EscapeDataString(CloudRunStack.ServiceUrl)).Bounded());
                await client.UnaryAsync(new EchoRequest { Message = "x" }, deadline: TestWait.Deadline());
                using (await tokenApi.GetAsync("/v1/token?audience=").Bounded())
                {
                }

                return tokens.Count >= 2;
            },
            TimeSpan.FromMilliseconds(100));

        stack.Metadata.Faults.Status = 503;
        using (await tokenApi.GetAsync("/v1/token?audience=https://another.example").Bounded())
        {
        }

        stack.Metadata.Faults.Status = null;
        using var tokenCommand = ChildProcess.StartAssembly("injector.dll", ["token", "--audience", CloudRunStack.ServiceUrl, "--socket", socket]);
        await tokenCommand.WaitForExitAsync();
        Assert.Equal(0, tokenCommand.ExitCode);
        var printed = tokenCommand.Output.Trim();
        Assert.Equal(3, printed.Split('.').Length);
        tokens.Add(printed);
        await sidecar.TerminateAsync();
        await sidecar.WaitForExitAsync();

        Assert.True(tokens.Count >= 2, $"expected a refresh during the run, saw {tokens.Count} tokens");
        var log = sidecar.Output;
        Assert.Contains("New token for", log, StringComparison.Ordinal);
        Assert.Contains("503", log, StringComparison.Ordinal);
        foreach (var token in tokens)
        {
            Assert.DoesNotContain(token, log, StringComparison.Ordinal);
            Assert.DoesNotContain(token.Split('.')[1], log, StringComparison.Ordinal);
            Assert.DoesNotContain(token.Split('.')[2], log, StringComparison.Ordinal);
        }

        if (format == "json")
        {
            foreach (var line in log.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var entry = JsonDocument.Parse(line);
                Assert.False(string.IsNullOrEmpty(entry.RootElement.GetProperty("severity").GetString()));
                Assert.False(string.IsNullOrEmpty(entry.RootElement.GetProperty("message").GetString()));
            }
        }
    }

    [Fact]
    public async Task TokenCommand_WithoutASidecar_FailsWithAClearMessage()
    {
        using var directory = new TempDirectory();
        using var command = ChildProcess.StartAssembly("injector.dll", ["token", "--audience", "https://a.example", "--socket", directory.File("none.sock")]);

        await command.WaitForExitAsync();

        Assert.Equal(1, command.ExitCode);
        Assert.Contains("cannot reach the token API at", command.Output, StringComparison.Ordinal);
        Assert.Contains("is the sidecar running?", command.Output, StringComparison.Ordinal);
    }

    /// <summary>One connection attempt: true when it is refused (nothing listens), false when it is taken.</summary>
    private static async Task<bool> ConnectionRefusedAsync(int port)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).Bounded();
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // The SYN reached the listener while it was closing; the next attempt tells whether it is gone.
            return false;
        }
    }
}
