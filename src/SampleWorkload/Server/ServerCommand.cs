using System.CommandLine;
using TokenInjector.DevCommandLine;

namespace TokenInjector.SampleWorkload.Server;

/// <summary><c>sample-workload server</c>: listens on <c>0.0.0.0:$PORT</c> (Cloud Run's contract) until asked to stop.</summary>
internal static class ServerCommand
{
    public static Command Create(IReadOnlyDictionary<string, string> environment)
    {
        var command = new Command("server", "The gRPC echo service to deploy on Cloud Run: h2c on 0.0.0.0:$PORT (default 8080).");
        DevCommand.SetAction(
            command,
            (_, errors) =>
            {
                var options = EchoServerOptions.FromEnvironment(name => environment.GetValueOrDefault(name), out var problem);
                if (problem is not null)
                {
                    errors.Add(problem);
                }

                return options;
            },
            async (options, invocation) =>
            {
                await using var app = EchoServer.Build(options!);
                await app.RunAsync(invocation.Stop);
                return 0;
            });
        return command;
    }
}
