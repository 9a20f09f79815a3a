namespace TokenInjector.SampleWorkload.Server;

/// <summary>Entry of <c>sample-workload server</c>: listen on <c>0.0.0.0:$PORT</c> until SIGTERM.</summary>
internal static class ServerCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Count > 0)
        {
            await error.WriteLineAsync("usage: sample-workload server   (listens on 0.0.0.0:$PORT, default 8080, h2c only)");
            return args[0] is "--help" or "-h" ? 0 : 2;
        }

        var options = EchoServerOptions.FromEnvironment(Environment.GetEnvironmentVariable, out var problem);
        if (options is null)
        {
            await error.WriteLineAsync($"sample-workload server: {problem}");
            return 2;
        }

        await using var app = EchoServer.Build(options);
        await app.RunAsync();
        return 0;
    }
}
