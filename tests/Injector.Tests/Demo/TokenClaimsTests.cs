using System.Text;
using TokenInjector.Demo.Observing;

namespace TokenInjector.Tests.Demo;

public sealed class TokenClaimsTests
{
    private static string Jwt(string payloadJson, string signature = "c2lnbmF0dXJlLXNlY3JldA") =>
        Encode("""{"alg":"RS256","typ":"JWT","kid":"k1"}""") + "." + Encode(payloadJson) + "." + signature;

    private static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [Fact]
    public void FromJwt_ReadsTheClaimsTheDemoShows()
    {
        var claims = TokenClaims.FromJwt(Jwt("""{"aud":"https://svc.a.run.app","email":"app@p.iam.gserviceaccount.com","sub":"1234","iss":"https://accounts.google.com","iat":1763935000,"exp":1763935020}"""));

        Assert.NotNull(claims);
        Assert.Equal("https://svc.a.run.app", claims.Audience);
        Assert.Equal("app@p.iam.gserviceaccount.com", claims.Email);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1763935020), claims.ExpiresAt);
        Assert.Equal(
            "aud=https://svc.a.run.app email=app@p.iam.gserviceaccount.com iss=https://accounts.google.com iat=21:56:40Z exp=21:57:00Z (20 s)",
            claims.Describe());
    }

    [Fact]
    public void Describe_NeverContainsTheTokenOrItsSignature()
    {
        var jwt = Jwt("""{"aud":"https://svc.a.run.app","iat":1,"exp":2}""");

        var text = TokenClaims.FromJwt(jwt)!.Describe();

        foreach (var segment in jwt.Split('.'))
        {
            Assert.DoesNotContain(segment, text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("not a jwt")]
    [InlineData("a.b")]
    [InlineData("a.!!!.c")]
    [InlineData("eyJhbGciOiJub25lIn0.WzEsMl0.c2ln")] // payload is a JSON array
    public void FromJwt_NotAJwt_IsNull(string text)
    {
        Assert.Null(TokenClaims.FromJwt(text));
    }
}
