using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The chart value webhook.allowHostNetwork reaches the webhook: rendered with Helm, the webhook started with the
/// rendered arguments denies a hostNetwork pod by default, naming the value that allows it, and injects it (with a
/// warning about the exposure) when the operator set the value.
/// </summary>
public sealed class AllowHostNetworkTests
{
    [Theory]
    [InlineData(null)]
    [InlineData(false)]
    public async Task HostNetworkPod_WithoutTheValue_IsDeniedNamingTheValue(bool? allowHostNetwork)
    {
        var response = await ReviewHostNetworkPodAsync(allowHostNetwork);

        Assert.False(response["allowed"]!.GetValue<bool>());
        var message = response["status"]!["message"]!.GetValue<string>();
        Assert.Contains("spec.hostNetwork is true", message, StringComparison.Ordinal);
        Assert.Contains("chart value webhook.allowHostNetwork", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostNetworkPod_WithTheValueSet_IsInjectedWithAWarning()
    {
        var response = await ReviewHostNetworkPodAsync(true);

        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.NotNull(response["patch"]);
        Assert.Contains(response["warnings"]!.AsArray(), w => w!.GetValue<string>().StartsWith("spec.hostNetwork is true and the webhook's operator allows it", StringComparison.Ordinal));
    }

    private static async Task<JsonNode> ReviewHostNetworkPodAsync(bool? allowHostNetwork)
    {
        var values = ValueSets.Setting("webhook.port", FreePort.Next());
        if (allowHostNetwork is { } allow)
        {
            values = ValueSets.Merge(values, ValueSets.Setting("webhook.allowHostNetwork", allow));
        }

        var rendering = await Helm.RenderAsync(values);
        var (webhook, output) = await RenderedWebhook.StartAsync(rendering);
        Assert.True(webhook is not null, "the webhook did not start:\n" + output);
        await using (webhook)
        {
            return await webhook.ReviewAsync(rendering, Webhook.RunningWebhook.GoldenInput("host-network"), "host-network");
        }
    }
}
