using System.Buffers.Text;
using System.Security.Cryptography;

namespace TokenInjector.Emulators.Identity;

/// <summary>
/// The RSA keys that sign identity tokens. Like Google's, the published set holds the current key and, after a
/// rotation, the previous one, so tokens signed just before a rotation still verify.
/// </summary>
internal sealed class SigningKeyRing : IDisposable
{
    private readonly Lock _gate = new();

    // Every key ever made; disposed only with the ring, so a signer holding an old key never races a Dispose.
    private readonly List<RSA> _created = [];
    private SigningKey _current;
    private SigningKey? _previous;

    public SigningKeyRing() => _current = CreateKey();

    /// <summary>The key that signs new tokens.</summary>
    public SigningKey Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>Makes a new signing key; the old one stays published only when <paramref name="keepPrevious"/>.</summary>
    public SigningKey Rotate(bool keepPrevious)
    {
        lock (_gate)
        {
            _previous = keepPrevious ? _current : null;
            _current = CreateKey();
            return _current;
        }
    }

    /// <summary>The public keys to publish, current first.</summary>
    public JsonWebKeySet ToJwks()
    {
        SigningKey current;
        SigningKey? previous;
        lock (_gate)
        {
            current = _current;
            previous = _previous;
        }

        var keys = new List<JsonWebKey> { ToJwk(current) };
        if (previous is not null)
        {
            keys.Add(ToJwk(previous));
        }

        return new JsonWebKeySet(keys);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var rsa in _created)
            {
                rsa.Dispose();
            }

            _created.Clear();
        }
    }

    private SigningKey CreateKey()
    {
        var rsa = RSA.Create(2048);
        _created.Add(rsa);

        // Google's key ids are 40 hex digits (a SHA-1); random ones of the same shape are enough here.
        return new SigningKey(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)), rsa);
    }

    private static JsonWebKey ToJwk(SigningKey key)
    {
        var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
        return new JsonWebKey(
            KeyType: "RSA",
            Algorithm: "RS256",
            Use: "sig",
            KeyId: key.KeyId,
            Modulus: Base64Url.EncodeToString(parameters.Modulus),
            Exponent: Base64Url.EncodeToString(parameters.Exponent));
    }
}

/// <summary>One signing key and its key id.</summary>
internal sealed record SigningKey(string KeyId, RSA Rsa);
