using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TokenInjector.Bench.Load;

/// <summary>
/// One keep-alive HTTP/1.1 connection (a Unix socket or TCP), written for the load generator: a prebuilt request goes
/// out in one send, and the answer is parsed in place (status, <c>Content-Length</c> or chunked body) with no
/// allocation per request, so the generator spends its core on the server's answers rather than on itself.
/// </summary>
internal sealed class Http1Connection : IDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] LineEnd = "\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private byte[] _body = new byte[4 * 1024];
    private int _start;
    private int _end;

    private Http1Connection(Socket socket) => _socket = socket;

    public static async Task<Http1Connection> OpenAsync(EndPoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var unix = endpoint is UnixDomainSocketEndPoint;
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
        try
        {
            if (!unix)
            {
                socket.NoDelay = true;
            }

            await socket.ConnectAsync(endpoint, cancellationToken);
            return new Http1Connection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The bytes of <c>GET <paramref name="pathAndQuery"/></c> (with <paramref name="header"/>, a <c>Name: value</c> line, when given), to build once and send many times.</summary>
    public static byte[] Get(string pathAndQuery, string? header = null) =>
        Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.1\r\nHost: localhost\r\n{(header is null ? string.Empty : header + "\r\n")}\r\n");

    /// <summary>Sends <paramref name="request"/> and reads the whole answer; the body stays valid until the next call.</summary>
    public async ValueTask<(int Status, ReadOnlyMemory<byte> Body)> SendAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        await _socket.SendAsync(request, SocketFlags.None, cancellationToken);
        var headerLength = await IndexOfAsync(HeaderEnd, cancellationToken) + HeaderEnd.Length;
        var (status, contentLength, chunked) = ParseHeader(_buffer.AsSpan(_start, headerLength));
        _start += headerLength;

        var bodyLength = 0;
        if (chunked)
        {
            while (true)
            {
                var lineLength = await IndexOfAsync(LineEnd, cancellationToken);
                if (!Utf8Parser.TryParse(_buffer.AsSpan(_start, lineLength), out int size, out _, 'x'))
                {
                    throw new InvalidDataException("bad chunk size");
                }

                _start += lineLength + LineEnd.Length;
                await EnsureAsync(size + LineEnd.Length, cancellationToken);
                CopyToBody(ref bodyLength, size);
                _start += LineEnd.Length;
                if (size == 0)
                {
                    break;
                }
            }
        }
        else
        {
            await EnsureAsync(contentLength, cancellationToken);
            CopyToBody(ref bodyLength, contentLength);
        }

        return (status, _body.AsMemory(0, bodyLength));
    }

    public void Dispose() => _socket.Dispose();

    private static (int Status, int ContentLength, bool Chunked) ParseHeader(ReadOnlySpan<byte> header)
    {
        // "HTTP/1.1 200 OK\r\n..."
        if (header.Length < 12 || !Utf8Parser.TryParse(header.Slice(9, 3), out int status, out _))
        {
            throw new InvalidDataException("not an HTTP/1.1 status line");
        }

        var contentLength = 0;
        var chunked = false;
        foreach (var range in header.Split(LineEnd))
        {
            var line = header[range];
            if (StartsWithIgnoreCase(line, "content-length:"u8))
            {
                if (!Utf8Parser.TryParse(line["content-length:".Length..].Trim((byte)' '), out contentLength, out _))
                {
                    throw new InvalidDataException("bad Content-Length");
                }
            }
            else if (StartsWithIgnoreCase(line, "transfer-encoding:"u8) && line.IndexOf("chunked"u8) >= 0)
            {
                chunked = true;
            }
        }

        return (status, contentLength, chunked);
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> line, ReadOnlySpan<byte> prefix) =>
        line.Length >= prefix.Length && Ascii.EqualsIgnoreCase(line[..prefix.Length], prefix);

    private void CopyToBody(ref int bodyLength, int count)
    {
        if (bodyLength + count > _body.Length)
        {
            Array.Resize(ref _body, Math.Max(_body.Length * 2, bodyLength + count));
        }

        _buffer.AsSpan(_start, count).CopyTo(_body.AsSpan(bodyLength));
        bodyLength += count;
        _start += count;
    }

    /// <summary>Where <paramref name="needle"/> starts in the unread bytes, reading more until it is there.</summary>
    private async ValueTask<int> IndexOfAsync(byte[] needle, CancellationToken cancellationToken)
    {
        while (true)
        {
            var index = _buffer.AsSpan(_start, _end - _start).IndexOf(needle);
            if (index >= 0)
            {
                return index;
            }

            await ReceiveAsync(cancellationToken);
        }
    }

    private async ValueTask EnsureAsync(int count, CancellationToken cancellationToken)
    {
        if (count > _buffer.Length)
        {
            throw new InvalidDataException($"a {count}-byte body is more than this load generator reads");
        }

        while (_end - _start < count)
        {
            await ReceiveAsync(cancellationToken);
        }
    }

    private async ValueTask ReceiveAsync(CancellationToken cancellationToken)
    {
        if (_end == _buffer.Length)
        {
            if (_start == 0)
            {
                throw new InvalidDataException("an answer header larger than the buffer");
            }

            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        var received = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        if (received == 0)
        {
            throw new IOException("the server closed the connection");
        }

        _end += received;
    }
}
