using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Connections;
using TokenInjector.Plumbing;

namespace TokenInjector.Serving;

/// <summary>
/// Answers bytes that are not an HTTP/1.1 request line with a 400 that says what the socket expects, instead of
/// Kestrel's empty 400 (or 505 for another HTTP version). It peeks at the first line only; a well-formed request reaches Kestrel untouched.
/// </summary>
internal static class RequestLineGuard
{
    /// <summary>The longest request line the token API takes: long queries must reach the handler, which says what is wrong.</summary>
    public const int MaxRequestLineBytes = 2 * 1024 * 1024;

    private const int MaxPeek = 64;
    private const string Message = "malformed request: this socket speaks HTTP/1.1; use GET /v1/token?audience=AUDIENCE\n";
    private static readonly byte[] Answer = Encoding.ASCII.GetBytes(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n" +
        $"Content-Length: {Message.Length}\r\n\r\n{Message}");

    public static Func<ConnectionDelegate, ConnectionDelegate> Guard => next => async connection =>
    {
        // Silent or gone clients are left to Kestrel's own timeouts and errors.
        if (await ConnectionPeek.JudgeFirstBytesAsync(connection, Judge, undecided: true))
        {
            await next(connection);
            return;
        }

        await connection.Transport.Output.WriteAsync(Answer);
        await connection.Transport.Output.CompleteAsync();
    };

    /// <summary>false: not an HTTP request; true: starts like one; null: too few bytes to tell.</summary>
    private static bool? Judge(ReadOnlySequence<byte> buffer)
    {
        var start = JudgeMethodAndTarget(buffer);
        return start is true ? JudgeVersion(buffer) : start;
    }

    private static bool? JudgeMethodAndTarget(ReadOnlySequence<byte> buffer)
    {
        // "METHOD SP /": an upper-case token of up to 16 letters, then a space, then an origin-form target.
        var length = (int)Math.Min(buffer.Length, MaxPeek);
        Span<byte> start = stackalloc byte[length];
        buffer.Slice(0, length).CopyTo(start);
        for (var i = 0; i < start.Length; i++)
        {
            var b = start[i];
            if (b == (byte)' ')
            {
                if (i == 0 || i > 16)
                {
                    return false;
                }

                return i + 1 < start.Length ? start[i + 1] is (byte)'/' or (byte)'*' : null;
            }

            if (b is < (byte)'A' or > (byte)'Z')
            {
                return false;
            }
        }

        return length < MaxPeek ? null : false;
    }

    // Kestrel answers a request line with any version but HTTP/1.0 or 1.1 (HTTP/2.0 over this HTTP/1.1-only socket,
    // HTTP/0.9) with 505, a server error; it is the client's mistake, so it gets this 400 instead. A line longer than
    // Kestrel's limit goes on to Kestrel, which answers 414.
    private static bool? JudgeVersion(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            return buffer.Length > MaxRequestLineBytes ? true : null;
        }

        Span<byte> tail = stackalloc byte[10];
        var taken = (int)Math.Min(line.Length, tail.Length);
        line.Slice(line.Length - taken).CopyTo(tail);
        var end = tail[..taken];
        if (end.Length > 0 && end[^1] == (byte)'\r')
        {
            end = end[..^1];
        }

        return end.EndsWith(" HTTP/1.1"u8) || end.EndsWith(" HTTP/1.0"u8);
    }
}
