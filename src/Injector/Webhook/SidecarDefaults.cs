using TokenInjector.Configuration;

namespace TokenInjector.Webhook;

/// <summary>
/// What the webhook puts into every injected sidecar unless a pod's annotations say otherwise, and what the operator
/// allows pods to ask for. Its values have one source, the webhook's <c>--sidecar-*</c> flags and their defaults
/// (<see cref="WebhookSettings.Options"/>), read by <see cref="From"/>: tests read theirs the same way, so they run
/// with what production runs with.
/// </summary>
internal sealed record SidecarDefaults
{
    public required string Image { get; init; }

    public required string ImagePullPolicy { get; init; }

    public required string CpuRequest { get; init; }

    public required string MemoryRequest { get; init; }

    public required string MemoryLimit { get; init; }

    public required int AdminPort { get; init; }

    public required string LogFormat { get; init; }

    /// <summary>Adds <c>prometheus.io/*</c> scrape annotations to pods that have none.</summary>
    public bool PrometheusScrape { get; init; }

    /// <summary>Injects pods with <c>hostNetwork: true</c> (with a warning) instead of denying them.</summary>
    public bool AllowHostNetwork { get; init; }

    /// <summary>The defaults the webhook's <c>--sidecar-*</c> options give; a bad value is added to the options' errors.</summary>
    public static SidecarDefaults From(ParsedOptions options)
    {
        var image = options.Single(WebhookSettings.Options.SidecarImage);
        if (image is null)
        {
            options.AddError(WebhookSettings.Options.SidecarImage, "is required: the image of the sidecar to inject");
        }
        else if (string.IsNullOrWhiteSpace(image.Text) || image.Text.Any(char.IsWhiteSpace))
        {
            options.AddError(image, WebhookSettings.Options.SidecarImage, "is not an image reference (no spaces)");
        }

        var cpuRequest = Quantity(options, WebhookSettings.Options.SidecarCpuRequest);
        var memoryRequest = Quantity(options, WebhookSettings.Options.SidecarMemoryRequest);
        var memoryLimit = Quantity(options, WebhookSettings.Options.SidecarMemoryLimit);
        var defaults = new SidecarDefaults
        {
            Image = image?.Text ?? string.Empty,
            ImagePullPolicy = options.Choice(WebhookSettings.Options.SidecarImagePullPolicy, new Dictionary<string, string>
            {
                ["ifnotpresent"] = "IfNotPresent",
                ["always"] = "Always",
                ["never"] = "Never",
            }),
            CpuRequest = cpuRequest,
            MemoryRequest = memoryRequest,
            MemoryLimit = memoryLimit,
            AdminPort = options.Int(WebhookSettings.Options.SidecarAdminPort, 1, 65535),
            LogFormat = options.Choice(WebhookSettings.Options.SidecarLogFormat, new Dictionary<string, string> { ["json"] = "json", ["text"] = "text" }),
            PrometheusScrape = options.Bool(WebhookSettings.Options.PrometheusScrape),
            AllowHostNetwork = options.Bool(WebhookSettings.Options.AllowHostNetwork),
        };
        if (QuantityRules.RequestExceedsLimit(memoryRequest, memoryLimit))
        {
            options.AddError(
                WebhookSettings.Options.SidecarMemoryRequest, $"'{memoryRequest}' is more than {WebhookSettings.Options.SidecarMemoryLimit.Flag} '{memoryLimit}'");
        }

        return defaults;
    }

    private static string Quantity(ParsedOptions options, OptionSpec option)
    {
        var value = options.Single(option)!;
        if (!QuantityRules.TryParse(value.Text, out _))
        {
            options.AddError(value, option, $"is not {QuantityRules.Expected}");
        }

        return value.Text;
    }
}
