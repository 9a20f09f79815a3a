using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Connections;
using TokenInjector.Hosting;

namespace TokenInjector.Serving;

/// <summary>
/// Answers bytes that are not an HTTP/1.1 request line with a 400 that says what the socket expects, instead of
/// Kestrel's empty 400. It peeks at the first line only; a well-formed request reaches Kestrel untouched.
/// </summary>
internal static class RequestLineGuard
{
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
}
