using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace TokenInjector.Tests.Support;

/// <summary>
/// One exchange of raw bytes with a server, below any HTTP client, for inputs no client would send: the bytes go out
/// as they are and the first answer is read back as far as its own framing says (Content-Length, chunked, or until the
/// server closes). A server still silent after <c>silence</c> is waiting for more of a request that will not come: the
/// write side is then shut, which makes it answer or close (Kestrel closes without answering a request cut short). <see cref="StatusCode"/> is null when it closed
/// without an HTTP answer.
/// </summary>
internal sealed partial record RawHttpExchange(int? StatusCode, string Answer, bool TimedOut)
{
    /// <summary>Answers past this many bytes are cut: enough for any status line and error body.</summary>
    private const int MaxAnswerBytes = 64 * 1024;

    public string Body => Answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) is var end and >= 0 ? Answer[(end + 4)..] : string.Empty;

    /// <param name="endpoint">The server.</param>
    /// <param name="request">The bytes to send.</param>
    /// <param name="limit">The time limit of the whole exchange.</param>
    /// <param name="silence">How long to wait for a first answer before shutting the write side; zero for a request known to be cut short.</param>
    public static async Task<RawHttpExchange> SendAsync(EndPoint endpoint, ReadOnlyMemory<byte> request, TimeSpan limit, TimeSpan silence)
    {
        using var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(limit);
        var answer = new MemoryStream();
        try
        {
            await socket.ConnectAsync(endpoint, timeout.Token);
            try
            {
                await socket.SendAsync(request, timeout.Token);
            }
            catch (SocketException)
            {
                // The server may answer and close before it has read everything (a 400 on the first line): read what it said.
            }

            var buffer = new byte[16 * 1024];
            var shut = false;
            while (answer.Length < MaxAnswerBytes && !IsComplete(answer))
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
                if (!shut)
                {
                    quiet.CancelAfter(silence);
                }

                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer, quiet.Token);
                }
                catch (OperationCanceledException) when (!timeout.IsCancellationRequested)
                {
                    socket.Shutdown(SocketShutdown.Send);
                    shut = true;
                    continue;
                }

                if (read == 0)
                {
                    break;
                }

                answer.Write(buffer, 0, read);
            }
        }
        catch (OperationCanceledException)
        {
            return Parse(answer, timedOut: true);
        }
        catch (SocketException)
        {
            // Reset by the server after its answer (it closed with unread bytes pending): keep what arrived.
        }

        return Parse(answer, timedOut: false);
    }

    // Whether the bytes so far hold a whole answer by its own framing; an answer without framing ends when the server closes.
    private static bool IsComplete(MemoryStream answer)
    {
        var text = Encoding.Latin1.GetString(answer.GetBuffer(), 0, (int)answer.Length);
        var headersEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headersEnd < 0)
        {
            return false;
        }

        var headers = text[..headersEnd];
        var body = text.Length - headersEnd - 4;
        var length = ContentLength().Match(headers);
        if (length.Success)
        {
            return body >= int.Parse(length.Groups["length"].Value, CultureInfo.InvariantCulture);
        }

        return headers.Contains("\r\nTransfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)
            && text.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
    }

    private static RawHttpExchange Parse(MemoryStream answer, bool timedOut)
    {
        var text = Encoding.Latin1.GetString(answer.GetBuffer(), 0, (int)answer.Length);
        int? status = text.Length >= 12 && text.StartsWith("HTTP/1.", StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            ? code
            : null;
        return new RawHttpExchange(status, text, timedOut);
    }

    [GeneratedRegex(@"\r\nContent-Length: *(?<length>[0-9]{1,9})", RegexOptions.IgnoreCase)]
    private static partial Regex ContentLength();
}
