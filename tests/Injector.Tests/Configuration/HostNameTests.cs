using TokenInjector.Configuration;

namespace TokenInjector.Tests.Configuration;

/// <summary><see cref="HostName"/>'s rules, one named row each: the canonical form of a name, or why it is not one.</summary>
public sealed class HostNameTests
{
    public static TheoryData<string, string, string> Canonical => new()
    {
        { "lower case", "svc-abc.a.run.app", "svc-abc.a.run.app" },
        { "upper case folds", "SVC-ABC.A.RUN.APP", "svc-abc.a.run.app" },
        { "trailing dot of a fully qualified name", "svc.run.app.", "svc.run.app" },
        { "one label", "localhost", "localhost" },
        { "Unicode becomes punycode", "bücher.example", "xn--bcher-kva.example" },
        { "Unicode upper case folds first", "BÜCHER.example", "xn--bcher-kva.example" },
        { "punycode that decodes", "xn--bcher-kva.example", "xn--bcher-kva.example" },
        { "digits in labels", "1svc.2.example", "1svc.2.example" },
        { "253 characters", string.Join('.', Enumerable.Repeat(new string('a', 62), 4)) + "a", string.Join('.', Enumerable.Repeat(new string('a', 62), 4)) + "a" },
    };

    [Theory]
    [MemberData(nameof(Canonical))]
    public void TryCanonical_HostName_GivesItsCanonicalForm(string name, string text, string expected)
    {
        Assert.True(HostName.TryCanonical(text, out var host, out var problem), $"{name}: {problem}");
        Assert.Equal(expected, host);
    }

    public static TheoryData<string, string, string> Refused => new()
    {
        { "empty", "", "is not a host name" },
        { "a dot", ".", "is not a host name" },
        { "two trailing dots", "svc.run.app..", "is not a host name" },
        { "empty label", "svc..run.app", "is not a DNS host name" },
        { "underscore", "svc_abc.run.app", "is not a DNS host name" },
        { "percent-encoding", "svc%2Eevil.run.app", "is not a DNS host name" },
        { "space", "svc .run.app", "is not a DNS host name" },
        { "hyphen at a label's start", "-svc.run.app", "is not a DNS host name" },
        { "hyphen at a label's end", "svc-.run.app", "is not a DNS host name" },
        { "punycode that does not decode", "xn--zz.example", "is not a DNS host name" },
        { "label over 63 characters", new string('a', 64) + ".example", "is not a DNS host name" },
        { "over 253 characters", string.Join('.', Enumerable.Repeat(new string('a', 50), 5)), "is 254 characters long; a host name has at most 253" },
        { "dotted IPv4", "127.0.0.1", "is an IP address, not a host name" },
        { "IPv4 as one number", "2130706433", "is an IP address, not a host name" },
        { "IPv4 in hex parts", "0x7f.1", "is an IP address, not a host name" },
        { "IPv4 in octal", "0177.0.0.1", "is an IP address, not a host name" },
        { "all-digit top-level label", "svc.run.123", "is an IP address, not a host name" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void TryCanonical_NotAHostName_SaysWhy(string name, string text, string expected)
    {
        Assert.False(HostName.TryCanonical(text, out var host, out var problem), $"{name}: accepted as {host}");
        Assert.Null(host);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }
}
