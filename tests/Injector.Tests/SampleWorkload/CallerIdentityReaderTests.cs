using TokenInjector.SampleWorkload.Protos;
using TokenInjector.SampleWorkload.Server;

namespace TokenInjector.Tests.SampleWorkload;

public sealed class CallerIdentityReaderTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer not-a-jwt")]
    [InlineData("Bearer a.%%%.c")]
    [InlineData("Bearer a.b.c.d")]
    [InlineData("Bearer eyJ9.WzFd.SIGNATURE_REMOVED_BY_GOOGLE")]
    public void Read_NoDecodableBearerToken_IsEmpty(string? authorization)
    {
        var identity = CallerIdentityReader.Read(name => name == "authorization" ? authorization : null);

        Assert.Equal(new CallerIdentity(), identity);
    }

    [Fact]
    public void Read_AudienceArray_IsJoined()
    {
        var token = TestJwt.Create("""{"aud":["https://a","https://b"],"email":"x@y"}""");

        var identity = CallerIdentityReader.Read(name => name == "authorization" ? $"bearer {token}" : null);

        Assert.Equal("https://a,https://b", identity.Audience);
        Assert.Equal("x@y", identity.Email);
        Assert.Null(identity.ExpiresAt);
    }

    [Fact]
    public void Read_SignatureNotRemoved_IsReportedAsUnverified()
    {
        var token = TestJwt.Create("""{"email":"x@y","exp":1e30}""", signature: "c2lnbmF0dXJl");

        var identity = CallerIdentityReader.Read(name => name == "authorization" ? $"Bearer {token}" : null);

        Assert.Equal("x@y", identity.Email);
        Assert.False(identity.SignatureRemovedByGoogle);
        Assert.Null(identity.ExpiresAt);
    }

    [Fact]
    public void Read_UndecodableServerlessHeader_FallsBackToAuthorization()
    {
        var token = TestJwt.Create("""{"email":"x@y"}""");

        var identity = CallerIdentityReader.Read(name => name switch
        {
            "x-serverless-authorization" => "Bearer garbage",
            "authorization" => $"Bearer {token}",
            _ => null,
        });

        Assert.Equal("x@y", identity.Email);
        Assert.Equal("authorization", identity.Header);
    }
}
