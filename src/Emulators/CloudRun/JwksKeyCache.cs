using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// The RSA keys of a JWKS, by <c>kid</c>. Fetched lazily (the metadata emulator may start after us) and refetched
/// when a token names a key we do not know, which is how key rotation reaches a verifier. Refetches are limited,
/// so a stream of tokens with made-up <c>kid</c>s cannot turn into a stream of JWKS downloads:
/// one fetch at a time, a <c>kid</c> still unknown after a fetch is not looked up again for a while, and at most
/// a handful of fetches per minute.
/// </summary>
internal sealed class JwksKeyCache : IDisposable
{
    private static readonly TimeSpan UnknownKeyRetryInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FetchBudgetWindow = TimeSpan.FromMinutes(1);
    private const int FetchBudget = 10;
    private const int MaxRememberedUnknownKeys = 1024;

    private readonly HttpClient _http;
    private readonly Uri _jwksUri;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _fetchLock = new(1, 1);
    private readonly Dictionary<string, DateTimeOffset> _unknownKeys = new(StringComparer.Ordinal);
    private readonly Queue<DateTimeOffset> _recentFetches = new();
    private volatile Dictionary<string, RSA> _keys = new(StringComparer.Ordinal);

    public JwksKeyCache(Uri jwksUri, TimeProvider time, ILogger logger)
    {
        _jwksUri = jwksUri;
        _time = time;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>The key for <paramref name="kid"/>, fetching the JWKS if needed and allowed; null if there is none.</summary>
    public async ValueTask<RSA?> GetKeyAsync(string kid, CancellationToken cancellationToken)
    {
        if (_keys.TryGetValue(kid, out var key))
        {
            return key;
        }

        await _fetchLock.WaitAsync(cancellationToken);
        try
        {
            // Another request may have fetched while we waited for the lock.
            if (_keys.TryGetValue(kid, out key))
            {
                return key;
            }

            var now = _time.GetUtcNow();
            if (_unknownKeys.TryGetValue(kid, out var lookedUpAt) && now - lookedUpAt < UnknownKeyRetryInterval)
            {
                return null;
            }

            while (_recentFetches.Count > 0 && now - _recentFetches.Peek() >= FetchBudgetWindow)
            {
                _recentFetches.Dequeue();
            }

            if (_recentFetches.Count >= FetchBudget)
            {
                CloudRunLog.JwksRefetchRateLimited(_logger, kid);
                return null;
            }

            _recentFetches.Enqueue(now);
            if (!await TryFetchAsync(cancellationToken))
            {
                return null;
            }

            if (_keys.TryGetValue(kid, out key))
            {
                _unknownKeys.Remove(kid);
                return key;
            }

            if (_unknownKeys.Count >= MaxRememberedUnknownKeys)
            {
                _unknownKeys.Clear();
            }

            _unknownKeys[kid] = now;
            return null;
        }
        finally
        {
            _fetchLock.Release();
        }
    }

    private async Task<bool> TryFetchAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(_jwksUri, cancellationToken);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            var keys = new Dictionary<string, RSA>(StringComparer.Ordinal);
            foreach (var jwk in document.RootElement.GetProperty("keys").EnumerateArray())
            {
                if (jwk.TryGetProperty("kty", out var kty) && kty.GetString() == "RSA"
                    && jwk.TryGetProperty("kid", out var kid) && kid.GetString() is { } id
                    && jwk.TryGetProperty("n", out var n) && jwk.TryGetProperty("e", out var e))
                {
                    var rsa = RSA.Create();
                    rsa.ImportParameters(new RSAParameters
                    {
                        Modulus = Base64Url.DecodeFromChars(n.GetString()),
                        Exponent = Base64Url.DecodeFromChars(e.GetString()),
                    });
                    keys[id] = rsa;
                }
            }

            // Old RSA instances are not disposed: a request on another thread may still be verifying with one.
            _keys = keys;
            CloudRunLog.JwksFetched(_logger, keys.Count);
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException
            or InvalidOperationException or FormatException or CryptographicException or TaskCanceledException
            && !cancellationToken.IsCancellationRequested)
        {
            CloudRunLog.JwksFetchFailed(_logger, _jwksUri, ex);
            return false;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _fetchLock.Dispose();
    }
}
