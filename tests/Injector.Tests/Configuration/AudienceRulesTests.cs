using System.Net;
using TokenInjector.Configuration;
using TokenInjector.SampleWorkload.Protos;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Configuration;

/// <summary>
/// The audience rule in flags: every printable ASCII punctuation character in <c>--audience</c> and in a route's
/// <c>=AUDIENCE</c> is kept exactly and served with exactly that <c>aud</c>, or refused (exit 2) naming it.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class AudienceRulesTests
{
    private const string OddAudience = "https://y.run.app&foo=1#x+y%20?=;";

    [Fact]
    public void Flags_EveryPunctuationCharacter_KeptExactlyOrRefusedNamingIt()
    {
        foreach (var (character, audience) in PunctuationAudiences.All)
        {
            foreach (var args in new[] { new[] { "--audience", audience }, ["--route", $"8080=https://svc.a.run.app={audience}"] })
            {
                var option = args[0];
                if (character == PunctuationAudiences.Refused)
                {
                    var error = Assert.Throws<ConfigurationErrorException>(() => Settings(args));
                    var line = Assert.Single(error.Errors);
                    Assert.Contains(option, line, StringComparison.Ordinal);
                    Assert.Contains(PunctuationAudiences.Naming(character) + " at position", line, StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal([audience], Settings(args).Audiences);
                }
            }
        }
    }

    [Fact]
    public async Task ConfiguredAudiences_EveryAcceptedCharacter_ServedExactly_AndARouteToOneCallsCloudRun()
    {
        await using var stack = await CloudRunStack.StartAsync(cloudRun: o => o.CustomAudiences.Add(OddAudience));
        var audiences = PunctuationAudiences.Accepted.Select(a => a.Audience).ToList();
        var sidecar = await stack.StartSidecarAsync(
            [.. audiences.SelectMany(a => new[] { "--audience", a }), .. stack.RouteArgs(OddAudience), "--allow-dynamic-audiences", "false"]);
        Assert.True(await TestWait.PollAsync(async () => await sidecar.ReadinessAsync() == HttpStatusCode.OK, TimeSpan.FromMilliseconds(50)));

        var wrong = new List<string>();
        foreach (var audience in audiences.Append(OddAudience))
        {
            using var response = await sidecar.GetTokenAsync(audience);
            var aud = response.StatusCode == HttpStatusCode.OK ? PunctuationAudiences.AudienceOf(await response.Content.ReadAsStringAsync()) : null;
            if (aud != audience)
            {
                wrong.Add($"{audience} / {(int)response.StatusCode} / {aud}");
            }
        }

        using var channel = stack.RouteChannel();
        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "odd" }, deadline: TestWait.Deadline());
        Assert.Empty(wrong);
        Assert.Equal(OddAudience, reply.Caller.Audience);
    }

    [Theory]
    [InlineData("--audience", "https://y.run.app,foo=1")]
    [InlineData("--route", "8080=https://svc.a.run.app=a,b")]
    public async Task AudienceWithAComma_ProcessExits2NamingIt(string option, string value)
    {
        using var directory = new TempDirectory();

        var (exitCode, _, stderr) = await ChildProcess.RunAssemblyAsync(
            "injector.dll", ["sidecar", option, value, "--socket", directory.File("s.sock"), "--admin-address", "127.0.0.1:0"]);

        Assert.Equal(2, exitCode);
        Assert.Contains($"{option}", stderr, StringComparison.Ordinal);
        Assert.Contains("',' at position", stderr, StringComparison.Ordinal);
    }

    private static SidecarSettings Settings(string[] args) =>
        SidecarSettings.From(SidecarSettings.Command.Parse([.. args, "--socket", "/tmp/s.sock"], _ => null), _ => null);
}
