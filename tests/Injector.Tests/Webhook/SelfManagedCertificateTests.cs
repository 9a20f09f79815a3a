using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// The certificate the webhook keeps itself, against the API server stand-in: from nothing to a Secret, a filled
/// caBundle and a served certificate the caBundle verifies; two replicas racing; the API server away at start; and
/// every kind of object the webhook must leave alone. (The rotation under load is <see cref="CertificateRotationTests"/>.)
/// </summary>
public sealed class SelfManagedCertificateTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly WebhookTestCertificates _certificates = WebhookTestCertificates.Create();

    [Fact]
    public async Task OneReplica_FromNothing_CreatesTheSecret_FillsEveryCaBundle_AndServesWhatTheBundleVerifies()
    {
        await using var api = await _certificates.StartApiServerAsync();
        KeptCertificateWebhook.InstallConfigurations(api);
        var untouched = api.Get(KeptCertificateWebhook.Mutating, string.Empty, KeptCertificateWebhook.MutatingName)!;
        await using var webhook = await KeptCertificateWebhook.StartAsync(api, TimeProvider.System, KeptCertificateWebhook.Arguments(api, Interval));

        await TestWait.UntilAsync(async () => (await webhook.ReadyzAsync()).Status == HttpStatusCode.OK, TimeSpan.FromMilliseconds(50));

        Assert.True(KeptCertificateWebhook.BundlesAgree(api));
        var secret = api.Get("secrets", KeptCertificateWebhook.Namespace, KeptCertificateWebhook.SecretName)!;
        Assert.Equal("kubernetes.io/tls", (string?)secret["type"]);
        Assert.Equal(CertificateSecret.OwnerValue, (string?)secret["metadata"]!["labels"]![CertificateSecret.OwnerLabel]);
        var data = secret["data"]!.AsObject();
        Assert.Superset(new HashSet<string> { "tls.crt", "tls.key", "ca.crt", "signing-ca.crt", "signing-ca.key" }, data.Select(pair => pair.Key).ToHashSet());
        var bundle = Encoding.ASCII.GetString(Convert.FromBase64String((string)data["ca.crt"]!));
        Assert.All(
            api.CaBundles(KeptCertificateWebhook.Mutating, KeptCertificateWebhook.MutatingName).Concat(api.CaBundles(KeptCertificateWebhook.Validating, KeptCertificateWebhook.ValidatingName)),
            held => Assert.Equal(bundle, held));
        Assert.Equal(3, api.CaBundles(KeptCertificateWebhook.Mutating, KeptCertificateWebhook.MutatingName).Count + api.CaBundles(KeptCertificateWebhook.Validating, KeptCertificateWebhook.ValidatingName).Count);

        // Only the caBundle changed: every other field of the configuration is as it was written.
        var now = api.Get(KeptCertificateWebhook.Mutating, string.Empty, KeptCertificateWebhook.MutatingName)!;
        foreach (var webhookEntry in now["webhooks"]!.AsArray())
        {
            webhookEntry!["clientConfig"]!.AsObject().Remove("caBundle");
        }

        Assert.True(JsonNode.DeepEquals(untouched["webhooks"], now["webhooks"]), now.ToJsonString());

        // The API server's view: trusting only the caBundle, by the Service's DNS name.
        var response = await webhook.ReviewAsync("one-replica");
        Assert.True((bool)response["allowed"]!);
        Assert.NotNull(response["patch"]);

        // The metric says when the served certificate ends.
        using var served = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(Convert.FromBase64String((string)data["tls.crt"]!)));
        Assert.Equal(new DateTimeOffset(served.NotAfter.ToUniversalTime()).ToUnixTimeSeconds(), webhook.Metrics.CertificateExpiry.Value);
        Assert.Equal(served.Thumbprint, webhook.Serving.Served!.Thumbprint);
        Assert.Equal(1, api.Count("POST", "secrets"));
    }

    [Fact]
    public async Task TwoReplicas_RacingToCreateTheSecret_EndWithOneCa()
    {
        await using var api = await _certificates.StartApiServerAsync();
        KeptCertificateWebhook.InstallConfigurations(api);
        // Both find the Secret missing and both create it: the API server takes one, the other gets 409 AlreadyExists.
        api.HoldCreates(2);
        var starting = Enumerable.Range(0, 2).Select(_ => KeptCertificateWebhook.StartAsync(api, TimeProvider.System, KeptCertificateWebhook.Arguments(api, Interval))).ToList();
        await using var first = await starting[0];
        await using var second = await starting[1];

        foreach (var replica in new[] { first, second })
        {
            await TestWait.UntilAsync(async () => (await replica.ReadyzAsync()).Status == HttpStatusCode.OK, TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal(2, api.Count("POST", "secrets"));
        Assert.True(KeptCertificateWebhook.BundlesAgree(api));
        Assert.Single(KeptCertificateWebhook.Bundle(api));
        Assert.Equal(first.Serving.Served!.Thumbprint, second.Serving.Served!.Thumbprint);
        foreach (var replica in new[] { first, second })
        {
            Assert.True((bool)(await replica.ReviewAsync("race"))["allowed"]!);
        }
    }

    [Fact]
    public async Task ApiServerDownAtStart_NotReadyWithTheReason_KeepsRetrying_ServesOnceItIsBack()
    {
        await using var api = await _certificates.StartApiServerAsync();
        KeptCertificateWebhook.InstallConfigurations(api);
        api.Down = true;
        await using var webhook = await KeptCertificateWebhook.StartAsync(api, TimeProvider.System, KeptCertificateWebhook.Arguments(api, Interval));

        await TestWait.UntilAsync(() => api.Refused >= 3);
        var (status, body) = await webhook.ReadyzAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("API server unreachable", body, StringComparison.Ordinal);
        Assert.Null(webhook.Serving.Served);

        api.Down = false;
        await TestWait.UntilAsync(async () => (await webhook.ReadyzAsync()).Status == HttpStatusCode.OK, TimeSpan.FromMilliseconds(50));
        Assert.True((bool)(await webhook.ReviewAsync("after-outage"))["allowed"]!);
    }

    [Fact]
    public async Task DnsNamesChanged_ServingCertificateIssuedAgain_UnderTheSameCa()
    {
        await using var api = await _certificates.StartApiServerAsync();
        KeptCertificateWebhook.InstallConfigurations(api);
        string firstServed;
        await using (var before = await KeptCertificateWebhook.StartAsync(api, TimeProvider.System, KeptCertificateWebhook.Arguments(api, Interval, KeptCertificateWebhook.DnsName)))
        {
            await TestWait.UntilAsync(async () => (await before.ReadyzAsync()).Status == HttpStatusCode.OK, TimeSpan.FromMilliseconds(50));
            firstServed = before.Serving.Served!.Thumbprint;
        }

        var ca = KeptCertificateWebhook.Bundle(api).Single().Thumbprint;
        await using var after = await KeptCertificateWebhook.StartAsync(api, TimeProvider.System, KeptCertificateWebhook.Arguments(api, Interval));
        await TestWait.UntilAsync(() => after.Serving.Served is { } served && served.Thumbprint != firstServed);

        var names = after.Serving.Served!.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames().ToHashSet();
        Assert.Equal([KeptCertificateWebhook.DnsName, KeptCertificateWebhook.DnsName + ".cluster.local"], names);
        Assert.Equal(ca, KeptCertificateWebhook.Bundle(api).Single().Thumbprint);
        Assert.True((bool)(await after.ReviewAsync("renamed"))["allowed"]!);
    }

    /// <summary>What the webhook must never write, and what it says instead, in /readyz and its log.</summary>
    public static TheoryData<string, string> ObjectsLeftAlone => new()
    {
        { "foreign Secret", "is not the webhook's (it lacks the label token-injector.dev/certificate=self-managed)" },
        { "unreadable Secret", "is unreadable: it does not hold a usable certificate and key" },
        { "missing configuration", "ValidatingWebhookConfiguration token-injector-workloads not found" },
        { "configuration calling another namespace", "MutatingWebhookConfiguration token-injector is not the webhook's (entry inject.token-injector.dev calls Service kube-system/other" },
    };

    [Theory]
    [MemberData(nameof(ObjectsLeftAlone))]
    public async Task ObjectNotOurs_IsLeftAlone_AndReadinessSaysWhy(string kind, string expected)
    {
        await using var api = await _certificates.StartApiServerAsync();
        KeptCertificateWebhook.InstallConfigurations(api);
        var secret = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = KeptCertificateWebhook.SecretName },
            ["type"] = "kubernetes.io/tls",
            ["data"] = new JsonObject { ["tls.crt"] = Convert.ToBase64String("not a certificate"u8), ["tls.key"] = Convert.ToBase64String("not a key"u8) },
        };
        switch (kind)
        {
            case "foreign Secret":
                api.Put("secrets", KeptCertificateWebhook.Namespace, secret);
                break;
            case "unreadable Secret":
                secret["metadata"]!["labels"] = new JsonObject { [CertificateSecret.OwnerLabel] = CertificateSecret.OwnerValue };
                foreach (var key in new[] { "ca.crt", "signing-ca.crt", "signing-ca.key" })
                {
                    secret["data"]![key] = Convert.ToBase64String("garbage"u8);
                }

                api.Put("secrets", KeptCertificateWebhook.Namespace, secret);
                break;
            case "missing configuration":
                api.Delete(KeptCertificateWebhook.Validating, string.Empty, KeptCertificateWebhook.ValidatingName);
                break;
            default:
                api.PutWebhookConfiguration(KeptCertificateWebhook.Mutating, KeptCertificateWebhook.MutatingName, "kube-system", "other", "inject.token-injector.dev");
                break;
        }

        var before = (
            Secret: api.Get("secrets", KeptCertificateWebhook.Namespace, KeptCertificateWebhook.SecretName)?.ToJsonString(),
            Mutating: api.Get(KeptCertificateWebhook.Mutating, string.Empty, KeptCertificateWebhook.MutatingName)!.ToJsonString());
        await using var webhook = await KeptCertificateWebhook.StartAsync(api, TimeProvider.System, KeptCertificateWebhook.Arguments(api, Interval));
        await TestWait.UntilAsync(() => webhook.Keeper.Rounds >= 2);

        var (status, body) = await webhook.ReadyzAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains(expected, body, StringComparison.Ordinal);
        Assert.Equal(0, api.Count("PUT", KeptCertificateWebhook.Mutating) + api.Count("PUT", KeptCertificateWebhook.Validating) + api.Count("PUT", "secrets"));
        if (kind.EndsWith("Secret", StringComparison.Ordinal))
        {
            Assert.Equal(before.Secret, api.Get("secrets", KeptCertificateWebhook.Namespace, KeptCertificateWebhook.SecretName)?.ToJsonString());
            Assert.Equal(0, api.Count("POST", "secrets"));
        }

        Assert.Equal(before.Mutating, api.Get(KeptCertificateWebhook.Mutating, string.Empty, KeptCertificateWebhook.MutatingName)!.ToJsonString());
    }

    public void Dispose() => _certificates.Dispose();
}
