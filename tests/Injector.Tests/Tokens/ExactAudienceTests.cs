using System.Net;
using System.Text;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Tokens;

/// <summary>
/// A token is served for exactly the audience asked, whatever characters it holds: against the metadata emulator,
/// which reads its query as Google's metadata server does (Go's net/url).
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class ExactAudienceTests
{
    [Fact]
    public async Task Socket_EveryPunctuationCharacter_ServedForExactlyThatAudienceOrRefusedNamingIt()
    {
        await using var stack = await CloudRunStack.StartAsync();
        var sidecar = await stack.StartSidecarAsync(["--allow-dynamic-audiences", "true"]);

        var wrong = new StringBuilder();
        foreach (var (character, audience) in PunctuationAudiences.All)
        {
            using var response = await sidecar.GetTokenAsync(audience);
            var body = await response.Content.ReadAsStringAsync();
            if (character == PunctuationAudiences.Refused)
            {
                if (response.StatusCode != HttpStatusCode.BadRequest || !body.Contains(PunctuationAudiences.Naming(character), StringComparison.Ordinal))
                {
                    wrong.AppendLine($"{audience}: {(int)response.StatusCode}, expected 400 naming {PunctuationAudiences.Naming(character)}");
                }
            }
            else if (response.StatusCode != HttpStatusCode.OK || PunctuationAudiences.AudienceOf(body) != audience)
            {
                var aud = response.StatusCode == HttpStatusCode.OK ? PunctuationAudiences.AudienceOf(body) : "(no token)";
                wrong.AppendLine($"{audience}: {(int)response.StatusCode}, aud '{aud}' {(response.StatusCode == HttpStatusCode.OK ? string.Empty : body.Trim())}");
            }
        }

        Assert.True(wrong.Length == 0, "asked / answer / aud:\n" + wrong);
    }
}
