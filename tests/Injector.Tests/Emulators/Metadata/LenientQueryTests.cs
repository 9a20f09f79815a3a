using TokenInjector.Emulators.Metadata;

namespace TokenInjector.Tests.Emulators.Metadata;

public sealed class LenientQueryTests
{
    [Theory]
    [InlineData("?audience=https://x.run.app&format=full", "https://x.run.app")]
    [InlineData("?format=full&audience=https://x.run.app", "https://x.run.app")]
    [InlineData("?audience=https%3A%2F%2Fx.run.app", "https://x.run.app")]
    [InlineData("?audience=a+b", "a+b")]
    [InlineData("?audience=100%", "100%")]
    [InlineData("?audience=", "")]
    [InlineData("?audience", "")]
    [InlineData("?audiences=x", null)]
    [InlineData("?format=full", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Get_Audience_TakesTheRawValueUpToTheNextAmpersand(string? query, string? expected)
    {
        Assert.Equal(expected, LenientQuery.Get(query, "audience"));
    }
}
