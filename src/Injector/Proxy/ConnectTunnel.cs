using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.WebUtilities;
using TokenInjector.Configuration;
using TokenInjector.Plumbing;

namespace TokenInjector.Proxy;

/// <summary>
/// The egress listener's <c>CONNECT HOST:80</c> tunnels, as connection middleware in front of Kestrel. Kestrel parses
/// a CONNECT request but cannot turn its connection into a tunnel (that needs <c>Connection: Upgrade</c>), and the
/// tunnel's contents are HTTP/1.1 or HTTP/2 with prior knowledge that Kestrel itself must then serve. So a connection
/// that opens with <c>CONNECT </c> has its request head read here: one request line and its header lines, at most
/// <see cref="MaxHeadBytes"/>, strictly (CRLF line ends, no folding, no body, one Host). <see cref="EgressPolicy"/>
/// decides, as for every egress request; a refusal is answered here and the connection closed, with nothing forwarded.
/// An accepted tunnel is answered <c>200 Connection established</c>, marked with <see cref="EgressTunnel"/>, and the
/// rest of the connection goes on to Kestrel (through <see cref="PriorKnowledgeHttp2"/>) as on any cleartext port.
/// Any other first bytes reach Kestrel untouched.
/// </summary>
internal sealed class ConnectTunnel(EgressPolicy policy, ProxyMetrics metrics, ILogger logger)
{
    /// <summary>The longest CONNECT request head taken (request line and headers); clients send about a hundred bytes.</summary>
    public const int MaxHeadBytes = 8 * 1024;

    private static readonly byte[] Method = "CONNECT "u8.ToArray();
    private static readonly byte[] Established = "HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray();

    // The characters of a header name (RFC 9110 "token").
    private static readonly SearchValues<char> TokenCharacters =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => async connection =>
    {
        if (!await ConnectionPeek.JudgeFirstBytesAsync(connection, Judge, undecided: false))
        {
            // Not a CONNECT, or a client that never finished one: Kestrel reads it as it reads any request.
            await next(connection);
            return;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var input = connection.Transport.Input;
        var buffer = (await input.ReadAsync()).Buffer; // at once: the peek left the bytes unconsumed
        var bytes = buffer.Slice(0, Math.Min(buffer.Length, MaxHeadBytes)).ToArray();
        var length = HeadLength(bytes);
        var (target, host) = (string.Empty, (string?)null);
        var refusal = length < 0
            ? new Refusal(StatusCodes.Status431RequestHeaderFieldsTooLarge, $"token-injector: the CONNECT request's head is longer than {MaxHeadBytes} bytes")
            : Parse(bytes.AsSpan(0, length), out target, out host);
        if (refusal is null)
        {
            var decision = policy.Decide(new EgressRequest(EgressEntry.Connect, HttpMethods.Connect, target, host, TunnelHost: null));
            if (decision.Target is { } tunnel)
            {
                input.AdvanceTo(buffer.GetPosition(length));
                connection.Features.Set(new EgressTunnel(tunnel.Authority));
                await connection.Transport.Output.WriteAsync(Established);
                await next(connection);
                return;
            }

            refusal = decision.Refusal!;
        }

        input.AdvanceTo(buffer.End);
        logger.EgressRefused(refusal.StatusCode, refusal.Message);
        metrics.Count(ForwardingTarget.EgressListener, refusal.StatusCode.ToString(CultureInfo.InvariantCulture), started);
        await connection.Transport.Output.WriteAsync(Answer(refusal));
        await connection.Transport.Output.CompleteAsync();
    };

    /// <summary>true: a CONNECT whose head has ended (or outgrown the limit); false: no CONNECT; null: too few bytes yet.</summary>
    private static bool? Judge(ReadOnlySequence<byte> buffer)
    {
        Span<byte> method = stackalloc byte[(int)Math.Min(buffer.Length, Method.Length)];
        buffer.Slice(0, method.Length).CopyTo(method);
        if (!Method.AsSpan().StartsWith(method))
        {
            return false;
        }

        if (method.Length < Method.Length)
        {
            return null;
        }

        var head = buffer.Slice(0, Math.Min(buffer.Length, MaxHeadBytes)).ToArray();
        return HeadLength(head) >= 0 || head.Length == MaxHeadBytes ? true : null;
    }

    // The length of the head up to and including its empty line, however the client ended its lines (Parse insists on
    // CRLF, so a bare LF is refused rather than waited on); -1 while there is none.
    private static int HeadLength(ReadOnlySpan<byte> bytes)
    {
        var start = 0;
        while (bytes[start..].IndexOf((byte)'\n') is var newline and >= 0)
        {
            var line = bytes.Slice(start, newline);
            start += newline + 1;
            if (line.IsEmpty || line.SequenceEqual("\r"u8))
            {
                return start;
            }
        }

        return -1;
    }

    // The request line and header lines of one CONNECT: null when well formed, with its target and Host header.
    private static Refusal? Parse(ReadOnlySpan<byte> head, out string target, out string? host)
    {
        target = string.Empty;
        host = null;
        var lines = new List<string>();
        var start = 0;
        while (head[start..].IndexOf((byte)'\n') is var newline and >= 0)
        {
            var line = head.Slice(start, newline);
            start += newline + 1;
            if (line.IsEmpty || line[^1] != (byte)'\r' || line[..^1].ContainsAny((byte)'\r', (byte)'\n'))
            {
                return Malformed("its lines must end in CRLF");
            }

            lines.Add(Encoding.Latin1.GetString(line[..^1]));
        }

        // "CONNECT SP authority SP HTTP-version", single spaces, then header lines up to the empty one.
        var requestLine = lines[0];
        var parts = requestLine.Split(' ');
        if (parts is not [_, { Length: > 0 } authority, "HTTP/1.1" or "HTTP/1.0"] || !authority.All(c => c is > ' ' and < '\u007f'))
        {
            return Malformed($"'{ErrorText.Shown(requestLine)}' is not CONNECT HOST:PORT HTTP/1.1");
        }

        target = authority;
        foreach (var line in lines.Skip(1).SkipLast(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line.AsSpan(0, colon).ContainsAnyExcept(TokenCharacters))
            {
                return Malformed($"'{ErrorText.Shown(line)}' is not a header line (NAME: VALUE)");
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim([' ', '\t']);
            if (value.Any(c => c is (< ' ' and not '\t') or >= '\u007f'))
            {
                return Malformed($"header {name} has a control or non-ASCII character");
            }

            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                if (host is not null)
                {
                    return Malformed("it has two Host headers");
                }

                host = value;
            }
            else if ((name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && value != "0")
                || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                return Malformed("a CONNECT request has no body");
            }
        }

        return null;
    }

    private static Refusal Malformed(string problem) =>
        new(StatusCodes.Status400BadRequest, $"token-injector: malformed CONNECT request: {problem}; send CONNECT HOST:80 HTTP/1.1 with a Host header");

    private static byte[] Answer(Refusal refusal)
    {
        var body = Encoding.UTF8.GetBytes(refusal.Message + "\n");
        var head = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {refusal.StatusCode} {ReasonPhrases.GetReasonPhrase(refusal.StatusCode)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(head), .. body];
    }
}
