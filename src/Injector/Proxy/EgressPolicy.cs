using System.Globalization;
using System.Net;
using TokenInjector.Configuration;

namespace TokenInjector.Proxy;

/// <summary>How a request reached the egress listener.</summary>
internal enum EgressEntry
{
    /// <summary>The <c>CONNECT HOST:PORT</c> that opens a tunnel, read by <see cref="ConnectTunnel"/> before Kestrel.</summary>
    Connect,

    /// <summary>A request Kestrel parsed: direct, forward-proxy (absolute-form target), or inside a tunnel.</summary>
    Request,
}

/// <summary>
/// What an egress request says about where it goes: its method and request-target as sent, its <c>Host</c> header
/// (HTTP/1.1) or <c>:authority</c> (HTTP/2), and the host of the tunnel it came through, if any.
/// </summary>
internal readonly record struct EgressRequest(EgressEntry Entry, string Method, string Target, string? Host, string? TunnelHost);

/// <summary>Where an egress request goes, or why it is refused (exactly one of the two is set).</summary>
internal readonly record struct EgressDecision(ForwardingTarget? Target, Refusal? Refusal);

/// <summary>
/// The one decision of the egress listener, for all three ways in (a tunnel's CONNECT, a forward-proxy request, a
/// direct request, and the requests inside a tunnel): which upstream host and audience, or which refusal. Every place a
/// request names a host (the CONNECT target, an absolute-form URL, <c>Host</c>/<c>:authority</c>, the tunnel) must
/// name the same host and port, or the request is ambiguous; the port must be 80 (plain HTTP, which the sidecar
/// forwards over TLS to port 443); and the host must be on the allowlist. Refusals are 400 for a malformed or
/// ambiguous request and 403 for a well-formed one that is not allowed; nothing refused is ever forwarded.
/// </summary>
internal sealed class EgressPolicy
{
    private const int HttpPort = 80;
    private const int HttpsPort = 443;
    private const string Prefix = "token-injector: ";

    // The implied port of a Host without one: the port named before it, or 80 when nothing else names one.
    private const int PortNamedBefore = -1;

    private readonly Dictionary<string, EgressHostSpec> _exact = new(StringComparer.Ordinal);
    private readonly List<EgressHostSpec> _wildcards;
    private readonly string _allowlist;

    public EgressPolicy(IReadOnlyList<EgressHostSpec> allowlist)
    {
        foreach (var spec in allowlist.Where(spec => !spec.IsWildcard))
        {
            _exact[spec.Pattern] = spec;
        }

        // The most specific wildcard wins: *.a.example before *.example.
        _wildcards = [.. allowlist.Where(spec => spec.IsWildcard).OrderByDescending(spec => spec.Pattern.Length)];
        _allowlist = string.Join(", ", allowlist.Select(spec => spec.Pattern));
    }

    /// <summary>The allowlist's patterns, as messages and the log show them.</summary>
    public string Allowlist => _allowlist;

    public EgressDecision Decide(in EgressRequest request)
    {
        // Each place the request names where it goes, with the port it implies when it names none (null: it must).
        var named = new List<(string Where, string Authority, int? DefaultPort)>(3);
        if (request.Entry == EgressEntry.Connect)
        {
            named.Add(("the CONNECT target", request.Target, null));
        }
        else if (string.Equals(request.Method, HttpMethods.Connect, StringComparison.Ordinal))
        {
            return Refuse(400, "CONNECT opens a tunnel: send it as the first request of a new connection to this port");
        }
        else if (!request.Target.StartsWith('/'))
        {
            if (!TryAbsoluteForm(request.Target, out var authority, out var schemePort, out var problem))
            {
                return Refuse(400, $"request target '{ErrorText.Shown(request.Target)}' {problem}; the request was not forwarded");
            }

            named.Add(("the request URL", authority, schemePort));
        }

        if (request.TunnelHost is not null)
        {
            named.Add(("the tunnel", request.TunnelHost, HttpPort));
        }

        if (!string.IsNullOrEmpty(request.Host))
        {
            named.Add((request.Entry == EgressEntry.Connect ? "its Host header" : "Host/:authority", request.Host, PortNamedBefore));
        }

        if (named.Count == 0)
        {
            return Refuse(400, "the request names no host; send http://HOST/... through this port as a proxy (HTTP_PROXY), or name HOST in Host/:authority");
        }

        var (host, port) = (string.Empty, HttpPort);
        for (var i = 0; i < named.Count; i++)
        {
            var (where, authority, defaultPort) = named[i];
            if (!TryAuthority(authority, defaultPort == PortNamedBefore ? port : defaultPort, out var thisHost, out var thisPort, out var problem))
            {
                return Refuse(400, $"{where} '{ErrorText.Shown(authority)}' {problem}; the request was not forwarded");
            }

            if (i == 0)
            {
                (host, port) = (thisHost, thisPort);
            }
            else if (thisHost != host || thisPort != port)
            {
                return Refuse(400,
                    $"{named[0].Where} names {host}:{Invariant(port)} but {where} names {thisHost}:{Invariant(thisPort)}; the request was not forwarded (name one host)");
            }
        }

        if (port == HttpsPort)
        {
            var why = request.Entry == EgressEntry.Connect
                ? "a TLS tunnel would hide the request, so no token could be added"
                : "this port takes plain HTTP and adds TLS itself";
            return Refuse(403, $"{host}:443 refused: {why}; use http://{host}/ (port 80) and the sidecar calls https://{host} with a token");
        }

        if (port != HttpPort)
        {
            return Refuse(403, $"port {Invariant(port)} refused: this port forwards http://HOST (port 80) to https://HOST only; use http://{host}/");
        }

        if (Match(host) is not { } spec)
        {
            return Refuse(403, $"{host} is not an allowed egress host ({_allowlist}); the request was not forwarded (allow it with --egress-host)");
        }

        return new EgressDecision(ForwardingTarget.ForEgress(host, spec.AudienceFor(host), spec.Header), null);
    }

    private EgressHostSpec? Match(string host)
    {
        if (_exact.TryGetValue(host, out var exact))
        {
            return exact;
        }

        foreach (var wildcard in _wildcards)
        {
            if (wildcard.Matches(host))
            {
                return wildcard;
            }
        }

        return null;
    }

    private static EgressDecision Refuse(int status, string message) => new(null, new Refusal(status, Prefix + message));

    // http://AUTHORITY[/path][?query]: the authority, and the port its scheme implies.
    private static bool TryAbsoluteForm(string target, out string authority, out int defaultPort, out string problem)
    {
        authority = string.Empty;
        defaultPort = HttpPort;
        var schemeEnd = target.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd < 0 ? string.Empty : target[..schemeEnd];
        if (scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            defaultPort = HttpsPort;
        }
        else if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase))
        {
            problem = "is neither a path (/...) nor an http://HOST/... URL";
            return false;
        }

        var rest = target.AsSpan(schemeEnd + 3);
        var end = rest.IndexOfAny('/', '?', '#');
        authority = (end < 0 ? rest : rest[..end]).ToString();
        if (authority.Contains('@', StringComparison.Ordinal))
        {
            problem = "has user information before the host, which this port does not forward";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    // HOST[:PORT] (PORT required when defaultPort is null: a CONNECT target): the canonical host (see HostName; an IP
    // address is kept as written, and never matches the allowlist) and the port.
    private static bool TryAuthority(string authority, int? defaultPort, out string host, out int port, out string problem)
    {
        host = string.Empty;
        port = 0;
        var hostEnd = authority.StartsWith('[') ? authority.IndexOf(']', StringComparison.Ordinal) + 1 : authority.LastIndexOf(':');
        if (hostEnd == 0)
        {
            problem = "has an unclosed '['";
            return false;
        }

        var hostText = hostEnd < 0 ? authority : authority[..hostEnd];
        var portText = hostEnd < 0 || hostEnd == authority.Length ? null : authority[hostEnd..];
        if (portText is null)
        {
            if (defaultPort is not { } implied)
            {
                problem = "has no port (HOST:PORT)";
                return false;
            }

            port = implied;
        }
        else if (!portText.StartsWith(':')
            || !int.TryParse(portText.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            problem = "does not end in a port from 1 to 65535";
            return false;
        }

        if (hostText.StartsWith('[') ? IPAddress.TryParse(hostText.AsSpan(1, hostText.Length - 2), out _) : IPAddress.TryParse(hostText, out _))
        {
            host = hostText.ToLowerInvariant();
            problem = string.Empty;
            return true;
        }

        if (!HostName.TryCanonical(hostText, out var canonical, out var hostProblem))
        {
            problem = "has a host that " + hostProblem;
            return false;
        }

        host = canonical;
        problem = string.Empty;
        return true;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
