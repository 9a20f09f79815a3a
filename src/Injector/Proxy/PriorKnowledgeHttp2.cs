using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace TokenInjector.Proxy;

/// <summary>
/// Lets one cleartext port serve both gRPC (HTTP/2 with prior knowledge) and HTTP/1.1. Kestrel picks HTTP/2 on a
/// port that allows both only when ALPN said "h2", which never happens without TLS. This connection middleware
/// peeks at the first bytes: a client that opens with the HTTP/2 connection preface is marked as having negotiated
/// "h2"; anything else is left to HTTP/1.1. Nothing is consumed, so Kestrel reads the same bytes.
/// </summary>
internal static class PriorKnowledgeHttp2
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>How long a new connection may take to send its first bytes.</summary>
    private static readonly TimeSpan FirstBytesTimeout = TimeSpan.FromSeconds(30);

    public static Func<ConnectionDelegate, ConnectionDelegate> Detect => next => async connection =>
    {
        if (await StartsWithPrefaceAsync(connection))
        {
            connection.Features.Set<ITlsApplicationProtocolFeature>(new NegotiatedHttp2());
        }

        await next(connection);
    };

    private static async Task<bool> StartsWithPrefaceAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(FirstBytesTimeout);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                var buffer = result.Buffer;
                var verdict = Compare(buffer);
                if (verdict is not null || result.IsCompleted)
                {
                    input.AdvanceTo(buffer.Start);
                    return verdict ?? false;
                }

                // Not enough bytes to decide: examine what is there and wait for more.
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>true: the preface; false: something else; null: too few bytes to tell.</summary>
    private static bool? Compare(ReadOnlySequence<byte> buffer)
    {
        var length = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> start = stackalloc byte[length];
        buffer.Slice(0, length).CopyTo(start);
        if (!start.SequenceEqual(Preface.AsSpan(0, length)))
        {
            return false;
        }

        return length == Preface.Length ? true : null;
    }

    private sealed class NegotiatedHttp2 : ITlsApplicationProtocolFeature
    {
        public ReadOnlyMemory<byte> ApplicationProtocol => "h2"u8.ToArray();
    }
}
