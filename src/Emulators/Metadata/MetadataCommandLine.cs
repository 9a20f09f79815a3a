using System.CommandLine;
using TokenInjector.DevCommandLine;

namespace TokenInjector.Emulators.Metadata;

/// <summary>What <c>emulators metadata</c> runs with: the emulator's options and the faults switched on from the start.</summary>
internal sealed record MetadataSettings(MetadataEmulatorOptions Options, TimeSpan Latency, int? InjectStatus);

/// <summary>The options of <c>emulators metadata</c>, read into <see cref="MetadataSettings"/>.</summary>
internal sealed class MetadataCommandLine
{
    private static readonly Dictionary<string, StartupFailure> FailureModes = new(StringComparer.Ordinal)
    {
        ["refuse"] = StartupFailure.Refuse,
        ["404"] = StartupFailure.NotFound,
        ["503"] = StartupFailure.Unavailable,
    };

    private readonly Option<string> _listen = new("--listen")
    {
        Description = "where to listen, as GCE_METADATA_HOST names it; port 0 picks a free one",
        HelpName = "HOST:PORT",
        DefaultValueFactory = _ => "127.0.0.1:0",
    };

    private readonly Option<TimeSpan> _tokenLifetime = DevOptions.Duration(
        "--token-lifetime", "how long an ID token lives (real ones: 1h)", TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), defaultValue: TimeSpan.FromHours(1));

    private readonly Option<bool> _gkeCache = new("--gke-cache") { Description = "hand back the same token until its last --gke-cache-window, as GKE does" };

    private readonly Option<TimeSpan> _gkeCacheWindow = DevOptions.Duration(
        "--gke-cache-window", "how long before expiry the GKE cache stops handing a token out", TimeSpan.Zero, TimeSpan.FromDays(1), defaultValue: TimeSpan.FromSeconds(60));

    private readonly Option<TimeSpan> _failFirst = DevOptions.Duration("--fail-first", "fail for this long after start", TimeSpan.Zero, TimeSpan.FromDays(1), defaultValue: TimeSpan.Zero);

    private readonly Option<string> _failFirstMode = DevOptions.OneOf(
        "--fail-first-mode", "how to fail during --fail-first: refuse connections, or answer 404 or 503", "refuse", [.. FailureModes.Keys]);

    private readonly Option<string> _email = new("--email")
    {
        Description = "the service account's email",
        HelpName = "EMAIL",
        DefaultValueFactory = _ => new MetadataEmulatorOptions().ServiceAccountEmail,
    };

    private readonly Option<TimeSpan> _latency = DevOptions.Duration("--latency", "delay every metadata answer by this long", TimeSpan.Zero, TimeSpan.FromHours(1), defaultValue: TimeSpan.Zero);

    private readonly Option<int> _injectStatus = DevOptions.WholeNumber("--inject-status", "answer every metadata request with this HTTP status", min: 100, max: 599, helpName: "CODE");

    public MetadataCommandLine()
    {
        Command = new Command("metadata", "The GKE metadata server (Workload Identity): ID tokens, JWKS, faults for tests.")
        {
            _listen, _tokenLifetime, _gkeCache, _gkeCacheWindow, _failFirst, _failFirstMode, _email, _latency, _injectStatus,
        };
    }

    public Command Command { get; }

    /// <summary>The settings <paramref name="args"/> give, or every error in them.</summary>
    public static (MetadataSettings? Settings, IReadOnlyList<string> Errors) Parse(IReadOnlyList<string> args)
    {
        var commandLine = new MetadataCommandLine();
        return DevCommand.Bind(commandLine.Command.Parse(args), commandLine.Bind);
    }

    public MetadataSettings Bind(ParseResult parsed, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(errors);
        var options = new MetadataEmulatorOptions
        {
            ListenAddress = parsed.GetRequiredValue(_listen),
            TokenLifetime = parsed.GetValue(_tokenLifetime),
            GkeCache = parsed.GetValue(_gkeCache),
            GkeCacheWindow = parsed.GetValue(_gkeCacheWindow),
            StartupWindow = parsed.GetValue(_failFirst),
            StartupFailure = FailureModes[parsed.GetRequiredValue(_failFirstMode)],
            ServiceAccountEmail = parsed.GetRequiredValue(_email),
        };
        errors.AddRange(options.Validate());
        return new MetadataSettings(options, parsed.GetValue(_latency), parsed.GetResult(_injectStatus) is null ? null : parsed.GetValue(_injectStatus));
    }
}
