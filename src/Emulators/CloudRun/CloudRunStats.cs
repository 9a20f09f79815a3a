using System.Collections.Concurrent;
using System.Text.Json;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// Thread-safe counters of what the emulator let through and turned away, for tests and <c>GET /emulator/stats</c>.
/// Tokens are only ever recorded as a hash of their payload, never as strings.
/// </summary>
internal sealed class CloudRunStats
{
    private readonly ConcurrentDictionary<string, long> _rejectedByReason = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _acceptedTokenHashes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<TokenCaller, byte> _callers = new();
    private long _accepted;
    private long _rejected;
    private long _withoutToken;
    private volatile string? _lastServerName;
    private volatile string? _lastAuthority;

    /// <summary>Requests that passed authentication and were forwarded.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Requests answered 401 or 403.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Requests that carried no token at all (a sidecar that forgot to add one shows up here).</summary>
    public long WithoutToken => Interlocked.Read(ref _withoutToken);

    /// <summary>Distinct token payloads among accepted requests: shows whether a client reuses or refreshes its token.</summary>
    public int DistinctTokens => _acceptedTokenHashes.Count;

    /// <summary>Each distinct caller (<c>aud</c>, <c>sub</c>, <c>email</c>) among the accepted tokens.</summary>
    public IReadOnlyCollection<TokenCaller> Callers => [.. _callers.Keys];

    /// <summary>The TLS SNI host name of the last accepted request (null if the client sent none).</summary>
    public string? LastServerName => _lastServerName;

    /// <summary>The <c>:authority</c> (or <c>Host</c>) of the last accepted request.</summary>
    public string? LastAuthority => _lastAuthority;

    /// <summary>A snapshot of rejections per reason (see <see cref="RejectionReasons"/>).</summary>
    public IReadOnlyDictionary<string, long> RejectedByReason =>
        new SortedDictionary<string, long>(_rejectedByReason, StringComparer.Ordinal);

    /// <summary>Rejections for one reason; 0 when there were none.</summary>
    public long RejectedBy(string reason) => _rejectedByReason.TryGetValue(reason, out var count) ? count : 0;

    internal void RecordAccepted(string tokenPayloadHash, TokenCaller caller, string? serverName, string authority)
    {
        _acceptedTokenHashes.TryAdd(tokenPayloadHash, 0);
        _callers.TryAdd(caller, 0);
        _lastServerName = serverName;
        _lastAuthority = authority;
        Interlocked.Increment(ref _accepted);
    }

    internal void RecordRejected(string reason)
    {
        if (reason == RejectionReasons.Missing)
        {
            Interlocked.Increment(ref _withoutToken);
        }

        _rejectedByReason.AddOrUpdate(reason, 1, static (_, count) => count + 1);
        Interlocked.Increment(ref _rejected);
    }

    /// <summary>The stats as JSON, written by hand so the emulator needs no reflection-based serializer.</summary>
    internal void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("accepted", Accepted);
        writer.WriteNumber("rejected", Rejected);
        writer.WriteStartObject("rejectedByReason");
        foreach (var (reason, count) in RejectedByReason)
        {
            writer.WriteNumber(reason, count);
        }

        writer.WriteEndObject();
        writer.WriteNumber("withoutToken", WithoutToken);
        writer.WriteNumber("distinctTokens", DistinctTokens);
        writer.WriteString("lastServerName", LastServerName);
        writer.WriteString("lastAuthority", LastAuthority);
        writer.WriteEndObject();
    }
}
