using System.Buffers.Text;
using System.Text;

namespace TokenInjector.Tests.SampleWorkload;

/// <summary>Builds JWTs the way Cloud Run hands them to the service: real header and claims, signature stripped.</summary>
internal static class TestJwt
{
    public const string RemovedSignature = "SIGNATURE_REMOVED_BY_GOOGLE";

    public static string Create(string claimsJson, string signature = RemovedSignature) =>
        $"{Encode("""{"alg":"RS256","kid":"test","typ":"JWT"}""")}.{Encode(claimsJson)}.{signature}";

    public static string Google(string email, string audience, long issuedAt, long expiresAt, string signature = RemovedSignature) =>
        Create(
            $$"""{"aud":"{{audience}}","azp":"1234567890","email":"{{email}}","email_verified":true,"exp":{{expiresAt}},"iat":{{issuedAt}},"iss":"https://accounts.google.com","sub":"1234567890"}""",
            signature);

    private static string Encode(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
}
