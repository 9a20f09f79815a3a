using TokenInjector.Serving;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Serving;

/// <summary>The token files' naming rule, as the pure function it is: readable where it can be, never shared.</summary>
public sealed class TokenFileNameTests
{
    [Theory]
    [InlineData("https://svc-abc.a.run.app", "svc-abc.a.run.app")]
    [InlineData("https://SVC.example.com", "SVC.example.com")]
    [InlineData("https://svc.a.run.app/", "svc.a.run.app__")]
    [InlineData("https://x/a&b", "x_a_b_")]
    [InlineData("https://..", "_._")]
    [InlineData("http://svc.a.run.app", "http___svc.a.run.app_")]
    [InlineData("svc.a.run.app", "svc.a.run.app_")]
    [InlineData("https://a_b", "a_b_")]
    public void FileName_PlainHostsAreReadable_OthersCarryAHash(string audience, string expectedStart)
    {
        var name = TokenFileWriter.FileName(audience);

        if (expectedStart.Contains('_', StringComparison.Ordinal))
        {
            Assert.StartsWith(expectedStart, name, StringComparison.Ordinal);
            Assert.Matches("_[0-9a-f]{16}$", name);
        }
        else
        {
            Assert.Equal(expectedStart, name);
        }
    }

    [Fact]
    public void FileName_EveryAudienceOfThePunctuationTable_GetsAFileOfItsOwn()
    {
        string[] audiences = [.. PunctuationAudiences.Accepted.Select(a => a.Audience), "https://y.run.app", "y.run.app", "https://y.run.app/"];

        var names = audiences.Select(TokenFileWriter.FileName).ToList();

        Assert.Equal(audiences.Length, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(names, n => Assert.True(
            n.Length is > 0 and <= 100 && n[0] != '.' && n != TokenFileWriter.IndexFileName && n.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'), n));
    }

    [Fact]
    public void FileName_LongAudience_IsCutAndStillDistinct()
    {
        var stem = "https://svc.a.run.app/" + new string('p', 300);

        var first = TokenFileWriter.FileName(stem + "1");
        var second = TokenFileWriter.FileName(stem + "2");

        Assert.NotEqual(first, second);
        Assert.True(first.Length <= 100, first);
    }
}
