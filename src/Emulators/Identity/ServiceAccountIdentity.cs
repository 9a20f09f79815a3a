using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace TokenInjector.Emulators.Identity;

/// <summary>A service account as its ID tokens name it: <c>email</c>, and its numeric unique id as <c>sub</c> and <c>azp</c>.</summary>
internal sealed record ServiceAccountIdentity(string Email, string Id)
{
    /// <summary>
    /// An account other than the emulator's own (a target or delegate of impersonation): its unique id is made from its
    /// email, 21 digits as Google's are, so one account keeps one <c>sub</c> across runs.
    /// </summary>
    public static ServiceAccountIdentity Other(string email)
    {
        var hash = new BigInteger(SHA256.HashData(Encoding.UTF8.GetBytes(email)), isUnsigned: true);
        return new(email, "1" + (hash % BigInteger.Pow(10, 20)).ToString("D20", CultureInfo.InvariantCulture));
    }
}
