using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Support;

/// <summary>
/// A token source for unit tests: issues unsigned JWTs with iat/exp from the given clock, counts fetches per
/// audience, and can be told to fail, to hand back the previous token (the GKE cache), or to hold fetches until
/// released.
/// </summary>
internal sealed class FakeIdTokenSource(TimeProvider time, TimeSpan lifetime) : IIdTokenSource
{
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentDictionary<string, IdToken> _lastIssued = new();
    private int _serial;

    public Exception? Failure { get; set; }

    public bool RepeatLastToken { get; set; }

    /// <summary>As the GKE metadata server: the last token again until only this much of its life is left.</summary>
    public TimeSpan? GkeCacheWindow { get; set; }

    private TaskCompletionSource? _gate;

    /// <summary>A source of hour-long tokens whose fetches all wait until <see cref="Release"/>.</summary>
    public static FakeIdTokenSource HeldUntilReleased() =>
        new(TimeProvider.System, TimeSpan.FromHours(1)) { _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };

    /// <summary>Lets the held fetches (and every later one) go on.</summary>
    public void Release() => _gate?.SetResult();

    public int Calls(string audience) => _calls.GetValueOrDefault(audience);

    public int TotalCalls => _calls.Values.Sum();

    public async Task<IdToken> FetchAsync(TokenKey key, CancellationToken cancellationToken)
    {
        var audience = key.Audience;
        _calls.AddOrUpdate(audience, 1, (_, n) => n + 1);
        if (_gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (Failure is { } failure)
        {
            throw failure;
        }

        if (_lastIssued.TryGetValue(audience, out var last)
            && (RepeatLastToken || (GkeCacheWindow is { } window && time.GetUtcNow() < last.ExpiresAt - window)))
        {
            return last;
        }

        var token = IdToken.Parse(Jwt(audience, time.GetUtcNow(), lifetime, Interlocked.Increment(ref _serial)));
        _lastIssued[audience] = token;
        return token;
    }

    public static string Jwt(string audience, DateTimeOffset issuedAt, TimeSpan lifetime, int serial)
    {
        static string Encode(object value) => Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(value))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = Encode(new Dictionary<string, string> { ["alg"] = "RS256", ["typ"] = "JWT" });
        var claims = Encode(new Dictionary<string, object>
        {
            ["aud"] = audience,
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
            ["exp"] = (issuedAt + lifetime).ToUnixTimeSeconds(),
            ["jti"] = serial,
        });
        return $"{header}.{claims}.{Convert.ToBase64String(Encoding.ASCII.GetBytes("fake-signature-" + serial)).TrimEnd('=')}";
    }
}
