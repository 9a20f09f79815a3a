using System.Net;
using System.Text;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The chart's default, certificate.mode=selfManaged, run for real: the webhook started with the rendered arguments
/// against an API server stand-in that holds the rendered webhook configurations (no caBundle) and allows only what the
/// rendered RBAC allows creates its Secret, fills the caBundle of every entry of both configurations, and is ready.
/// </summary>
public sealed class SelfManagedCertificateChartTests
{
    [Fact]
    public async Task DefaultRendering_WebhookCreatesItsSecretAndFillsEveryCaBundle_WithinTheRenderedRbac()
    {
        var rendering = await Helm.RenderAsync(ValueSets.Setting("webhook.port", FreePort.Next()));
        Assert.DoesNotContain(rendering.Objects, o => Rendering.Kind(o) == "Secret");
        var configurations = RenderedWebhook.Configurations(rendering).ToList();
        Assert.Equal(["mutatingwebhookconfigurations", "validatingwebhookconfigurations"], configurations.Select(c => c.Resource));
        Assert.All(rendering.OfKind("MutatingWebhookConfiguration").Concat(rendering.OfKind("ValidatingWebhookConfiguration")),
            c => Assert.All(c["webhooks"]!.AsArray(), w => Assert.Null(w!["clientConfig"]!["caBundle"])));

        var (webhook, output) = await RenderedWebhook.StartAsync(rendering);
        Assert.True(webhook is not null, "the webhook did not start:\n" + output);
        await using (webhook)
        {
            var cluster = webhook.Cluster!;
            var secret = cluster.Get("secrets", Helm.Namespace, rendering.WebhookArg("tls-secret"))!;
            var ca = Encoding.ASCII.GetString(Convert.FromBase64String(secret["data"]!["ca.crt"]!.GetValue<string>()));
            Assert.All(configurations, c => Assert.Equal(Enumerable.Repeat(ca, c.Entries.Count), cluster.CaBundles(c.Resource, c.Name)));

            using var ready = await webhook.GetAsync(rendering, "/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

            // What the webhook did, the rendered RBAC allowed (the stand-in refuses the rest): the Secret created and
            // read by name, both configurations read and updated by name.
            Assert.Equal(1, cluster.Count("POST", "secrets"));
            Assert.All(configurations, c => Assert.True(cluster.Count("PUT", c.Resource) >= 1, c.Resource));
        }
    }

    [Fact]
    public async Task RenderedRoleWithoutSecretCreate_TheWebhookIsRefusedAndWritesNoCaBundle()
    {
        var rendering = await Helm.RenderAsync(ValueSets.Setting("webhook.port", FreePort.Next()));
        var objects = rendering.Objects.Select(o => o.DeepClone().AsObject()).ToList();
        var rules = objects.Single(o => Rendering.Kind(o) == "Role" && o["rules"]!.AsArray().Any(r => r!["resources"]!.AsArray().Any(x => (string?)x == "secrets")))["rules"]!.AsArray();
        var create = rules.Single(r => r!["verbs"]!.AsArray().Select(v => (string?)v).SequenceEqual(["create"]));
        rules.Remove(create);
        var broken = new Rendering(objects);

        var (webhook, output) = await RenderedWebhook.StartAsync(broken, untilCertified: false);
        Assert.True(webhook is not null, "the webhook did not start:\n" + output);
        await using (webhook)
        {
            var cluster = webhook.Cluster!;
            await TestWait.UntilAsync(() => cluster.Count("POST", "secrets") >= 1, TimeSpan.FromMilliseconds(50));

            Assert.Null(cluster.Get("secrets", Helm.Namespace, rendering.WebhookArg("tls-secret")));
            Assert.All(RenderedWebhook.Configurations(broken), c => Assert.All(cluster.CaBundles(c.Resource, c.Name), b => Assert.Equal(string.Empty, b)));
            Assert.False(webhook.Certified(broken));
        }
    }

    [Fact]
    public async Task ValidationOff_TheWebhookKeepsOnlyTheMutatingConfiguration()
    {
        var rendering = await Helm.RenderAsync(ValueSets.Merge(ValueSets.Setting("webhook.port", FreePort.Next()), ValueSets.Setting("webhook.validation.enabled", false)));
        Assert.Empty(rendering.OfKind("ValidatingWebhookConfiguration"));
        Assert.DoesNotContain(rendering.WebhookArgs, a => a.StartsWith("--validating-webhook-configuration=", StringComparison.Ordinal));

        var (webhook, output) = await RenderedWebhook.StartAsync(rendering);
        Assert.True(webhook is not null, "the webhook did not start:\n" + output);
        await using (webhook)
        {
            Assert.Equal(0, webhook.Cluster!.Count("GET", "validatingwebhookconfigurations"));
            using var ready = await webhook.GetAsync(rendering, "/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
    }
}
