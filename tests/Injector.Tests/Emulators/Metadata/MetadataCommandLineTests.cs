using TokenInjector.Emulators.Metadata;

namespace TokenInjector.Tests.Emulators.Metadata;

public sealed class MetadataCommandLineTests
{
    [Fact]
    public void Parse_AllOptions_FillsOptionsAndFaults()
    {
        var parsed = MetadataCommandLine.Parse(
        [
            "--listen", "127.0.0.1:8181", "--token-lifetime", "20", "--gke-cache", "--gke-cache-window=5",
            "--fail-first", "3", "--fail-first-mode", "503", "--email", "x@p.iam.gserviceaccount.com",
            "--latency-ms", "250", "--inject-status", "429",
        ]);

        Assert.Empty(parsed.Errors);
        Assert.Equal("127.0.0.1:8181", parsed.Options.ListenAddress);
        Assert.Equal(TimeSpan.FromSeconds(20), parsed.Options.TokenLifetime);
        Assert.True(parsed.Options.GkeCache);
        Assert.Equal(TimeSpan.FromSeconds(5), parsed.Options.GkeCacheWindow);
        Assert.Equal(TimeSpan.FromSeconds(3), parsed.Options.StartupWindow);
        Assert.Equal(StartupFailure.Unavailable, parsed.Options.StartupFailure);
        Assert.Equal("x@p.iam.gserviceaccount.com", parsed.Options.ServiceAccountEmail);
        Assert.Equal(TimeSpan.FromMilliseconds(250), parsed.Latency);
        Assert.Equal(429, parsed.InjectStatus);
    }

    [Theory]
    [InlineData("refuse", nameof(StartupFailure.Refuse))]
    [InlineData("404", nameof(StartupFailure.NotFound))]
    [InlineData("503", nameof(StartupFailure.Unavailable))]
    public void Parse_FailFirstMode_MapsToStartupFailure(string mode, string failure)
    {
        var expected = Enum.Parse<StartupFailure>(failure);

        var parsed = MetadataCommandLine.Parse(["--fail-first-mode", mode]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(expected, parsed.Options.StartupFailure);
    }

    public static TheoryData<string[], string> BadArguments => new()
    {
        { ["--bogus"], "unknown argument '--bogus'" },
        { ["--listen"], "--listen needs a value" },
        { ["--token-lifetime", "soon"], "--token-lifetime must be a whole number >= 1, not 'soon'" },
        { ["--token-lifetime", "0"], "--token-lifetime must be a whole number >= 1, not '0'" },
        { ["--fail-first-mode", "500"], "--fail-first-mode must be refuse, 404 or 503, not '500'" },
        { ["--inject-status", "42"], "--inject-status must be a whole number from 100 to 599, not '42'" },
        { ["--gke-cache=yes"], "--gke-cache takes no value" },
        { ["--listen", "nowhere"], "listen address 'nowhere' is not HOST:PORT with an IP address or localhost" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void Parse_BadArgument_ReportsOneLine(string[] args, string expected)
    {
        var parsed = MetadataCommandLine.Parse(args);

        Assert.Equal([expected], parsed.Errors);
    }

    [Fact]
    public void Parse_SeveralBadArguments_ReportsEveryOne()
    {
        var parsed = MetadataCommandLine.Parse(["--x", "--latency-ms", "-5", "--fail-first-mode", "later"]);

        Assert.Equal(3, parsed.Errors.Count);
    }

    [Theory]
    [InlineData("127.0.0.1:0", true)]
    [InlineData("0.0.0.0:8080", true)]
    [InlineData("localhost:9000", true)]
    [InlineData("[::1]:9000", true)]
    [InlineData("::1:9000", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.0.0.1:70000", false)]
    [InlineData("metadata.google.internal:80", false)]
    public void TryParseListenAddress_AcceptsIpOrLocalhostWithPort(string value, bool ok)
    {
        Assert.Equal(ok, MetadataEmulatorOptions.TryParseListenAddress(value, out _));
    }
}
