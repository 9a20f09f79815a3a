using System.Net;
using System.Text;
using System.Text.Json;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>The HTTP control API used when the emulator runs as its own process.</summary>
public sealed class ControlApiTests
{
    [Fact]
    public async Task Stats_ReportIdentityRequestsPerAudienceAndTotal()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        await client.GetIdentityTokenAsync("https://a.run.app");
        await client.GetIdentityTokenAsync("https://a.run.app");
        await client.GetIdentityTokenAsync("https://b.run.app");

        using var stats = JsonDocument.Parse(await client.GetStringAsync("/emulator/stats").Bounded());

        var perAudience = stats.RootElement.GetProperty("identityRequests");
        Assert.Equal(2, perAudience.GetProperty("https://a.run.app").GetInt32());
        Assert.Equal(1, perAudience.GetProperty("https://b.run.app").GetInt32());
        Assert.Equal(3, stats.RootElement.GetProperty("totalIdentityRequests").GetInt32());
    }

    [Fact]
    public async Task Faults_PostedAsJson_ApplyToMetadataRequests_AndNullClearsThem()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using (var set = await PostJsonAsync(client, "/emulator/faults", """{"status":503,"latencyMs":20,"hang":false}"""))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        Assert.Equal(503, emulator.Faults.Status);
        Assert.Equal(TimeSpan.FromMilliseconds(20), emulator.Faults.Latency);
        using (var faulted = await client.SendMetadataAsync($"{AccountsPath}/default/token", flavor: true))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, faulted.StatusCode);
        }

        using (var cleared = await PostJsonAsync(client, "/emulator/faults", """{"status":null}"""))
        {
            Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        }

        Assert.Null(emulator.Faults.Status);
        Assert.Equal(TimeSpan.Zero, emulator.Faults.Latency);
        using var healed = await client.SendMetadataAsync($"{AccountsPath}/default/token", flavor: true);
        Assert.Equal(HttpStatusCode.OK, healed.StatusCode);
    }

    [Fact]
    public async Task Faults_Hang_CanBeSwitchedOnAndOffOverHttp()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using (await PostJsonAsync(client, "/emulator/faults", """{"hang":true}"""))
        {
            Assert.True(emulator.Faults.Hang);
        }

        var pending = client.SendMetadataAsync($"{AccountsPath}/default/identity?audience=x", flavor: true);
        await TestWait.UntilAsync(() => emulator.IdentityRequests("x") == 1);
        using (await PostJsonAsync(client, "/emulator/faults", """{"hang":false}"""))
        {
            Assert.False(emulator.Faults.Hang);
        }

        using var released = await pending.Bounded();
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"status":7}""")]
    [InlineData("""{"latencyMs":-1}""")]
    public async Task Faults_InvalidBody_Is400(string body)
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var response = await PostJsonAsync(client, "/emulator/faults", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(emulator.Faults.Status);
    }

    [Fact]
    public async Task RotateKey_PublishesANewKeyFirstAndKeepsTheOldOne()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);
        var before = await JwksKeyIdsAsync(client, emulator);

        using var response = await PostJsonAsync(client, "/emulator/rotate-key", "");
        using var rotated = JsonDocument.Parse(await response.Content.ReadAsStringAsync().Bounded());

        var newKid = rotated.RootElement.GetProperty("kid").GetString()!;
        Assert.Equal([newKid, .. before], await JwksKeyIdsAsync(client, emulator));
        var jwt = await client.GetIdentityTokenAsync("https://a.run.app");
        Assert.Equal(newKid, DecodeSegment(jwt, 0).GetProperty("kid").GetString());
    }

    [Fact]
    public async Task ControlApi_WrongMethodOrPath_IsRejected()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var wrongMethod = await client.SendMetadataAsync("/emulator/faults", flavor: false);
        using var unknown = await client.SendMetadataAsync("/emulator/nope", flavor: false);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json")).Bounded();
}
