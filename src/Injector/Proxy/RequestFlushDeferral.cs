namespace TokenInjector.Proxy;

/// <summary>
/// Sends a forwarded request upstream in as few writes as promptness allows. For gRPC, YARP flushes the upstream
/// request stream after the headers and after every body write, and the end of the stream is one more write; in
/// SocketsHttpHandler each is a pass of the connection's writer loop, with a thread-pool hop there and one back, and
/// its own TLS record and <c>sendto</c>. Here a flush is owed rather than done, and paid just before reading the app's
/// body would wait, so a unary call's headers, message and end of stream leave together, while a streamed message
/// still leaves as soon as the app has nothing more right away.
/// </summary>
internal sealed class RequestFlushDeferral
{
    private static readonly HttpRequestOptionsKey<RequestFlushDeferral> Key = new("token-injector.request-flush-deferral");

    private Stream? _upstream;
    private bool _flushOwed;

    /// <summary>Called by the request transformer: the app's body is read through the deferral from now on.</summary>
    public static void Install(HttpContext context, HttpRequestMessage proxyRequest)
    {
        var deferral = new RequestFlushDeferral();
        context.Request.Body = new AppBody(context.Request.Body, deferral);
        proxyRequest.Options.Set(Key, deferral);
    }

    /// <summary>
    /// Sits in front of SocketsHttpHandler: YARP does not let a transformer replace the request content, so the
    /// upstream side of the deferral goes in here, where the content is about to be written.
    /// </summary>
    internal sealed class Handler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is { } content && request.Options.TryGetValue(Key, out var deferral))
            {
                request.Content = new UpstreamContent(content, deferral);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    private async ValueTask PayOwedFlushAsync(CancellationToken cancellationToken)
    {
        _flushOwed = false;
        try
        {
            await _upstream!.FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or ObjectDisposedException)
        {
            // The upstream stream broke. Raised here, inside a read of the app's body, YARP would blame the app;
            // the copy's next write or its end of stream meets the same failure and reports it as the upstream's.
        }
    }

    /// <summary>The request content as YARP wrote it, handed a stream whose flushes are owed rather than done.</summary>
    private sealed class UpstreamContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly RequestFlushDeferral _deferral;

        public UpstreamContent(HttpContent inner, RequestFlushDeferral deferral)
        {
            (_inner, _deferral) = (inner, deferral);
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            _deferral._upstream = stream;
            return _inner.CopyToAsync(new OwedFlushStream(stream, _deferral), context, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>The upstream request stream: writes go through, flushes are owed.</summary>
    private sealed class OwedFlushStream(Stream upstream, RequestFlushDeferral deferral) : WriteOnlyStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            upstream.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            upstream.WriteAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            deferral._flushOwed = true;
            return Task.CompletedTask;
        }
    }

    /// <summary>The app's request body: a read that would wait pays the owed flush first.</summary>
    private sealed class AppBody(Stream app, RequestFlushDeferral deferral) : ReadOnlyStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = app.ReadAsync(buffer, cancellationToken);
            return read.IsCompleted || !deferral._flushOwed ? read : FlushThenWaitAsync(read, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private async ValueTask<int> FlushThenWaitAsync(ValueTask<int> read, CancellationToken cancellationToken)
        {
            await deferral.PayOwedFlushAsync(cancellationToken);
            return await read;
        }
    }

    private abstract class WriteOnlyStream : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => throw new NotSupportedException("the proxy flushes asynchronously");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("the proxy writes asynchronously");
    }

    private abstract class ReadOnlyStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the proxy reads asynchronously");

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
