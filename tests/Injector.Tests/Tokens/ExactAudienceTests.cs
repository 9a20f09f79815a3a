using System.Net;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Tokens;

/// <summary>
/// A token is served for exactly the audience asked, whatever characters it holds, against the metadata emulator,
/// which reads its query as Google's metadata server does (Go's net/url); and a token for another audience is never
/// served.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class ExactAudienceTests
{
    [Fact]
    public async Task Socket_EveryPunctuationCharacter_ServedForExactlyThatAudienceOrRefusedNamingIt()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var sidecar = await stack.StartSidecarAsync(["--allow-dynamic-audiences", "true"]);

        var wrong = await PunctuationAudiences.WrongAnswersAsync(audience => sidecar.GetTokenAsync(audience));

        Assert.True(wrong.Length == 0, "asked / answer / aud:\n" + wrong);
    }

    [Fact]
    public async Task MetadataServerAnsweringForAnotherAudience_NothingServedWrittenOrForwarded_ReasonCounted_NotReady_ThenRecovers()
    {
        await using var stack = await CloudRunStack.StartAsync();
        stack.Metadata.Faults.WrongAudience = true;
        using var tokenDir = new TempDirectory();
        var logs = new LogCapture();
        var sidecar = await stack.StartSidecarAsync([.. stack.RouteArgs(), "--token-dir", tokenDir.Path], logs);
        await TestWait.UntilAsync(() => stack.Metadata.IdentityRequests(CloudRunStack.ServiceUrl) >= 2);

        using (var socket = await sidecar.GetTokenAsync(CloudRunStack.ServiceUrl))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, socket.StatusCode);
            Assert.Contains("another audience", await socket.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var channel = stack.RouteChannel();
        var call = await Assert.ThrowsAsync<Grpc.Core.RpcException>(
            () => new Echo.EchoClient(channel).UnaryAsync(new() { Message = "x" }, deadline: TestWait.Deadline()).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, call.StatusCode);
        Assert.Equal(0, stack.CloudRun.Stats.Accepted);
        Assert.Empty(Directory.GetFiles(tokenDir.Path));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await sidecar.ReadinessAsync());
        Assert.Matches("token_injector_token_fetch_errors_total\\{reason=\"wrong_audience\"\\} [1-9]", await sidecar.MetricsAsync());
        Assert.Contains("failed (wrong_audience): the token source returned a token for another audience (aud 'https://echo-e2e-abc123-uc.a.run.app/wrong-audience')", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", logs.Text, StringComparison.Ordinal);

        stack.Metadata.Faults.WrongAudience = false;
        Assert.True(await TestWait.PollAsync(async () => await sidecar.ReadinessAsync() == HttpStatusCode.OK, TimeSpan.FromMilliseconds(50)));
        using var served = await sidecar.GetTokenAsync(CloudRunStack.ServiceUrl);
        Assert.Equal(CloudRunStack.ServiceUrl, PunctuationAudiences.AudienceOf(await served.Content.ReadAsStringAsync()));
    }
}
