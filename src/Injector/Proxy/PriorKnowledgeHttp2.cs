using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using TokenInjector.Plumbing;

namespace TokenInjector.Proxy;

/// <summary>
/// Lets one cleartext port serve both gRPC (HTTP/2 with prior knowledge) and HTTP/1.1. Kestrel (.NET 10) picks
/// HTTP/2 on a port that allows both only for a TLS connection whose ALPN said "h2". This connection middleware
/// peeks at the first bytes: a client that opens with the HTTP/2 connection preface is presented to Kestrel's
/// protocol selection as such a connection; anything else is left to HTTP/1.1. Nothing is consumed, so Kestrel
/// reads the same bytes. The listener must set <c>AllowAlternateSchemes</c> so that the client's <c>:scheme http</c>
/// is accepted. (Later Kestrel versions detect the preface themselves; this class can go then.)
/// </summary>
internal static class PriorKnowledgeHttp2
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    public static Func<ConnectionDelegate, ConnectionDelegate> Detect => next => async connection =>
    {
        if (await ConnectionPeek.JudgeFirstBytesAsync(connection, Compare, undecided: false))
        {
            var negotiated = new NegotiatedHttp2();
            connection.Features.Set<ITlsApplicationProtocolFeature>(negotiated);
            connection.Features.Set<ITlsConnectionFeature>(negotiated);
        }

        await next(connection);
    };

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

    /// <summary>What protocol selection reads: "a TLS connection that negotiated h2", with no certificate.</summary>
    private sealed class NegotiatedHttp2 : ITlsApplicationProtocolFeature, ITlsConnectionFeature
    {
        private static readonly byte[] H2 = "h2"u8.ToArray();

        public ReadOnlyMemory<byte> ApplicationProtocol => H2;

        public X509Certificate2? ClientCertificate
        {
            get => null;
            set => throw new NotSupportedException("a cleartext connection has no client certificate");
        }

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
