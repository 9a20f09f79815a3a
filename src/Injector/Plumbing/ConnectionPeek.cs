using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace TokenInjector.Plumbing;

/// <summary>
/// Looks at a new connection's first bytes without consuming them, so that Kestrel later reads the same bytes.
/// Used by connection middleware that decides something from how a client opens (HTTP/2 preface, HTTP request line).
/// </summary>
internal static class ConnectionPeek
{
    /// <summary>How long a new connection may take to send enough bytes for a decision.</summary>
    private static readonly TimeSpan FirstBytesTimeout = TimeSpan.FromSeconds(30);

    /// <param name="connection">The new connection.</param>
    /// <param name="judge">true or false once the bytes decide; null while more bytes are needed.</param>
    /// <param name="undecided">The answer when the client stops sending, closes, or times out first.</param>
    public static async Task<bool> JudgeFirstBytesAsync(ConnectionContext connection, Func<ReadOnlySequence<byte>, bool?> judge, bool undecided)
    {
        var input = connection.Transport.Input;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(FirstBytesTimeout);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                var verdict = judge(result.Buffer);
                if (verdict is not null || result.IsCompleted)
                {
                    input.AdvanceTo(result.Buffer.Start);
                    return verdict ?? undecided;
                }

                // Not enough bytes to decide: mark them examined and wait for more.
                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            return undecided;
        }
    }
}
