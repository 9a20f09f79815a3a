using System.CommandLine;
using TokenInjector.DevCommandLine;
using TokenInjector.SampleWorkload.Client;
using TokenInjector.SampleWorkload.Server;

namespace TokenInjector.SampleWorkload;

/// <summary><c>sample-workload server | client</c>: the echo service deployed on Cloud Run, and the app that calls it through the sidecar.</summary>
internal static class SampleWorkloadCommand
{
    public static Command Create(IReadOnlyDictionary<string, string> environment, TimeProvider time) => DevCommand.Root(
        "sample-workload", "The sample gRPC echo service and the client that calls it through token-injector.",
        ServerCommand.Create(environment), ClientCommand.Create(environment, time));
}
