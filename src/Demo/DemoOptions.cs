using System.Globalization;

namespace TokenInjector.Demo;

/// <summary>The demo's few knobs: how long it runs, how fast the client calls, how long tokens live.</summary>
internal sealed record DemoOptions
{
    public const string Usage = """
        usage: scripts/demo [options]
          --duration SECONDS        how long the client calls the service (default 60)
          --rate N                  unary calls per second (default 5)
          --token-lifetime SECONDS  lifetime of the emulator's ID tokens (default 20; real ones live 3600)
        Runs the metadata emulator, the sample service behind the Cloud Run emulator, 'injector sidecar' with a route,
        and the sample client, as separate processes on loopback; Ctrl-C stops everything early.
        """;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public double Rate { get; init; } = 5;

    public int TokenLifetimeSeconds { get; init; } = 20;

    /// <summary>Null with the problems in <paramref name="errors"/>, or null with none when help was asked for.</summary>
    public static DemoOptions? Parse(IReadOnlyList<string> args, out List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(args);
        errors = [];
        var options = new DemoOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                errors.Clear();
                return null;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? arg[..equals] : arg;
            string? value = equals > 0 ? arg[(equals + 1)..] : i + 1 < args.Count ? args[++i] : null;
            if (name is not ("--duration" or "--rate" or "--token-lifetime"))
            {
                errors.Add($"unknown option '{arg}'");
                continue;
            }

            if (value is null || !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                errors.Add($"{name} needs a number");
                continue;
            }

            switch (name)
            {
                case "--duration" when number is >= 1 and <= 3600:
                    options = options with { Duration = TimeSpan.FromSeconds(number) };
                    break;
                case "--rate" when number is >= 0.1 and <= 200:
                    options = options with { Rate = number };
                    break;
                case "--token-lifetime" when number is >= 10 and <= 3600 && number == Math.Floor(number):
                    options = options with { TokenLifetimeSeconds = (int)number };
                    break;
                default:
                    errors.Add(name switch
                    {
                        "--duration" => "--duration must be from 1 to 3600 seconds",
                        "--rate" => "--rate must be from 0.1 to 200 calls per second",
                        _ => "--token-lifetime must be a whole number of seconds from 10 to 3600",
                    });
                    break;
            }
        }

        return errors.Count == 0 ? options : null;
    }
}
