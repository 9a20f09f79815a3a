namespace TokenInjector.SampleWorkload.Client;

/// <summary>Entry of <c>sample-workload client</c>: parse, then run. Exit code 2 on bad arguments.</summary>
internal static class ClientCommand
{
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string> environment,
        TextWriter output,
        TextWriter error,
        TimeProvider time,
        CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var options = ClientOptions.Parse(args, environment, out var errors);
        if (options is null)
        {
            foreach (var message in errors)
            {
                await error.WriteLineAsync($"sample-workload client: {message}");
            }

            await (errors.Count == 0 ? output : error).WriteLineAsync(ClientOptions.Usage);
            return errors.Count == 0 ? 0 : 2;
        }

        return await new EchoClientRunner(options, output, time).RunAsync(stop);
    }
}
