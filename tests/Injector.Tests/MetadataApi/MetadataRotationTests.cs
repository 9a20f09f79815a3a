using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using TokenInjector.Tests.Emulators.Metadata;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.MetadataApi.MetadataEndpointClient;

namespace TokenInjector.Tests.MetadataApi;

/// <summary>
/// Many clients of the metadata endpoint while tokens rotate, on a clock the test moves a step at a time
/// (<see cref="CallsAcrossRotations"/>): however many ask, the metadata server sees one identity request per audience
/// per refresh cycle, and every answer is a token for the audience asked.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class MetadataRotationTests
{
    private const string Configured = "https://configured-abc.a.run.app";
    private const string Learned = "https://learned-abc.a.run.app";

    [Fact]
    public async Task ThousandRequestsForTwoAudiencesOverThreeLifetimes_OneIdentityFetchPerAudiencePerRefresh()
    {
        var clock = new SteppingClock();
        var lifetime = TimeSpan.FromMinutes(2);
        await using var stack = await CloudRunStack.StartAsync(clock, lifetime);
        var port = FreePort.Next();
        await stack.StartSidecarAsync(["--audience", Configured, "--metadata", port.ToString(CultureInfo.InvariantCulture)]);
        var clients = Enumerable.Range(0, 4).Select(_ => For($"127.0.0.1:{port}")).ToList();
        var seen = new ConcurrentDictionary<string, ConcurrentDictionary<string, bool>>();
        string[] audiences = [Configured, Learned];

        async Task CallAsync(HttpClient client, string audience)
        {
            using var response = await client.GetAsync(IdentityPath(audience), flavor: true);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var jwt = await response.Content.ReadAsStringAsync();
            Assert.Equal(audience, MetadataTestSupport.DecodeSegment(jwt, 1).GetProperty("aud").GetString());
            seen.GetOrAdd(audience, _ => new())[jwt] = true;
        }

        try
        {
            await CallAsync(clients[0], Learned); // learned now: its refresh loop is the second one the clock waits for
            var calls = await CallsAcrossRotations.RunAsync(clock, refreshLoops: 2, moves: 72, TimeSpan.FromSeconds(5), callers: 8, id =>
                CallAsync(clients[id % clients.Count], audiences[id % audiences.Length]));
            await clock.ParkedAsync(timers: 2); // a refresh the last move started has finished
            foreach (var audience in audiences)
            {
                await CallAsync(clients[0], audience); // the token of that refresh, which no caller may have seen yet
            }

            Assert.True(calls >= 1000, $"{calls} calls");
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }

        foreach (var audience in audiences)
        {
            var tokens = seen[audience].Count;
            Assert.True(tokens >= 3, $"{audience}: {tokens} tokens in three lifetimes");
            Assert.True(tokens == stack.Metadata.IdentityRequests(audience), $"{audience}: {tokens} tokens, {stack.Metadata.IdentityRequests(audience)} fetches");
        }
    }
}
