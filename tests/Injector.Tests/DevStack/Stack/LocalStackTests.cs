using System.Net;
using Grpc.Net.Client;
using TokenInjector.DevStack.Stack;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.DevStack.Stack;

/// <summary>
/// The stack as the demo and the NativeAOT smoke test run it, every part its own process (the in-process stack is
/// what most other tests run on).
/// </summary>
public sealed class LocalStackTests
{
    [Fact]
    public async Task AsProcesses_ACallThroughASidecarRoute_ReachesTheServiceAsTheServiceAccount_AndAllStops()
    {
        var options = new StackOptions { ServiceAccount = "stack-test@p.iam.gserviceaccount.com", Invokers = ["stack-test@p.iam.gserviceaccount.com"] };
        var stack = await LocalStack.StartProcessesAsync(options, TestPrograms.All, CancellationToken.None).Bounded();
        string directory;
        try
        {
            directory = stack.Directory.Path;
            var routePort = FreePort.Next();
            using var sidecar = stack.Track(await SidecarProcess.StartAsync(stack.Sidecar(TestPrograms.Injector, stack.RouteArgs(routePort)), TestWait.Limit));
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{routePort}");

            var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "through the stack" }, deadline: TestWait.Deadline());

            Assert.Equal("through the stack", reply.Message);
            Assert.Equal(options.ServiceAccount, reply.Caller.Email);
            Assert.Equal(options.ServiceUrl, reply.Caller.Audience);
            Assert.True(reply.Caller.SignatureRemovedByGoogle);
            using var token = await sidecar.GetTokenAsync(options.ServiceUrl);
            Assert.Equal(HttpStatusCode.OK, token.StatusCode);
            Assert.Equal(4, stack.Processes.Count);
        }
        finally
        {
            await stack.DisposeAsync();
        }

        Assert.All(stack.Processes, process => Assert.True(process.HasExited, $"{process.Name} still runs"));
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public async Task AsProcesses_APartThatCannotStart_FailsTheStart_WithThatPart()
    {
        var programs = TestPrograms.All with { SampleWorkload = TestPrograms.All.Emulators };

        var error = await Assert.ThrowsAsync<ChildProcessException>(() => LocalStack.StartProcessesAsync(new StackOptions(), programs, CancellationToken.None)).Bounded();

        Assert.Equal("sample service", error.Child.Name);
        Assert.True(error.Child.HasExited);
        Assert.Contains(error.Child.RecentLines(), line => line.Contains("unexpected argument 'server'", StringComparison.Ordinal));
    }
}
