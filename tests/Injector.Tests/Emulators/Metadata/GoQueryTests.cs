using TokenInjector.Emulators.Metadata;

namespace TokenInjector.Tests.Emulators.Metadata;

public sealed class GoQueryTests
{
    // What Go's url.ParseQuery(q).Get("audience") returns, case by case.
    [Theory]
    [InlineData("?audience=https://x.run.app&format=full", "https://x.run.app")]
    [InlineData("?format=full&audience=https://x.run.app", "https://x.run.app")]
    [InlineData("?audience=https%3A%2F%2Fx.run.app", "https://x.run.app")]
    [InlineData("?audience=https://y.run.app&foo=1", "https://y.run.app")]
    [InlineData("?audience=https%3A%2F%2Fy.run.app%26foo%3D1", "https://y.run.app&foo=1")]
    [InlineData("?audience=https://y.run.app#frag", "https://y.run.app")]
    [InlineData("?audience=%23abc", "#abc")]
    [InlineData("?audience=#abc", "")]
    [InlineData("?audience=a+b", "a b")]
    [InlineData("?audience=a%2Bb", "a+b")]
    [InlineData("?audience=a=b", "a=b")]
    [InlineData("?audience=%C3%A9", "é")]
    [InlineData("?audience=100%25", "100%")]
    [InlineData("?audience=", "")]
    [InlineData("?audience", "")]
    [InlineData("?aud%69ence=x", "x")]
    [InlineData("?audiences=x", null)]
    [InlineData("?format=full", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Get_Audience_DecodesAsGoNetUrl(string? query, string? expected)
    {
        Assert.Equal(expected, GoQuery.Get(query, "audience"));
    }

    [Theory]
    [InlineData("?audience=100%", null)]
    [InlineData("?audience=%zz&audience=second", "second")]
    [InlineData("?audience=a;b", null)]
    [InlineData("?audience=a;b&audience=c", "c")]
    [InlineData("?audience=first&audience=second", "first")]
    public void Get_MalformedOrRepeatedParameters_TheFirstWellFormedOneWins(string query, string? expected)
    {
        Assert.Equal(expected, GoQuery.Get(query, "audience"));
    }
}
