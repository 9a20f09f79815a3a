using TokenInjector.DevCommandLine;
using TokenInjector.Emulators.Metadata;

namespace TokenInjector.Tests.Emulators.Metadata;

public sealed class MetadataCommandLineTests
{
    [Fact]
    public void Parse_AllOptions_FillsOptionsAndFaults()
    {
        var (settings, errors) = MetadataCommandLine.Parse(
        [
            "--listen", "127.0.0.1:8181", "--token-lifetime", "20s", "--gke-cache", "--gke-cache-window=5s",
            "--fail-first", "3s", "--fail-first-mode", "503", "--email", "x@p.iam.gserviceaccount.com",
            "--latency", "250ms", "--inject-status", "429",
        ]);

        Assert.Empty(errors);
        Assert.Equal("127.0.0.1:8181", settings!.Options.ListenAddress);
        Assert.Equal(TimeSpan.FromSeconds(20), settings.Options.TokenLifetime);
        Assert.True(settings.Options.GkeCache);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Options.GkeCacheWindow);
        Assert.Equal(TimeSpan.FromSeconds(3), settings.Options.StartupWindow);
        Assert.Equal(StartupFailure.Unavailable, settings.Options.StartupFailure);
        Assert.Equal("x@p.iam.gserviceaccount.com", settings.Options.ServiceAccountEmail);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.Latency);
        Assert.Equal(429, settings.InjectStatus);
    }

    [Fact]
    public void Parse_NoArguments_IsAHealthyEmulatorOnAFreePort()
    {
        var (settings, errors) = MetadataCommandLine.Parse([]);

        Assert.Empty(errors);
        Assert.Equal("127.0.0.1:0", settings!.Options.ListenAddress);
        Assert.Equal(TimeSpan.FromHours(1), settings.Options.TokenLifetime);
        Assert.False(settings.Options.GkeCache);
        Assert.Equal(TimeSpan.Zero, settings.Latency);
        Assert.Null(settings.InjectStatus);
    }

    [Theory]
    [InlineData("--gke-cache", true)]
    [InlineData("--gke-cache=true", true)]
    [InlineData("--gke-cache=false", false)]
    public void Parse_Boolean_IsBareOrTakesTrueOrFalse(string arg, bool expected)
    {
        var (settings, errors) = MetadataCommandLine.Parse([arg]);

        Assert.Empty(errors);
        Assert.Equal(expected, settings!.Options.GkeCache);
    }

    [Theory]
    [InlineData("refuse", nameof(StartupFailure.Refuse))]
    [InlineData("404", nameof(StartupFailure.NotFound))]
    [InlineData("503", nameof(StartupFailure.Unavailable))]
    public void Parse_FailFirstMode_MapsToStartupFailure(string mode, string failure)
    {
        var expected = Enum.Parse<StartupFailure>(failure);

        var (settings, errors) = MetadataCommandLine.Parse(["--fail-first-mode", mode]);

        Assert.Empty(errors);
        Assert.Equal(expected, settings!.Options.StartupFailure);
    }

    public static TheoryData<string[], string> BadArguments => new()
    {
        { ["--bogus"], "unknown option '--bogus' (see 'metadata --help')" },
        { ["--listen"], "--listen: a value is required (HOST:PORT)" },
        { ["--token-lifetime", "soon"], "--token-lifetime: 'soon' is not a duration from 1s to 86400s (write e.g. 500ms, 30s, 10m)" },
        { ["--token-lifetime", "0s"], "--token-lifetime: '0s' is not a duration from 1s to 86400s (write e.g. 500ms, 30s, 10m)" },
        { ["--token-lifetime", "20"], "--token-lifetime: '20' is not a duration from 1s to 86400s (write e.g. 500ms, 30s, 10m)" },
        { ["--fail-first-mode", "500"], "--fail-first-mode: '500' is not one of: refuse, 404, 503" },
        { ["--inject-status", "42"], "--inject-status: '42' is not a whole number from 100 to 599" },
        { ["--gke-cache=yes"], "unexpected argument 'yes': options start with -- (see 'metadata --help')" },
        { ["--listen", "a:1", "--listen", "b:2"], "--listen: given more than once; it takes a single value" },
        { ["--listen", "nowhere"], "listen address 'nowhere' is not " + ListenAddress.Expected },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void Parse_BadArgument_ReportsOneLine(string[] args, string expected)
    {
        var (settings, errors) = MetadataCommandLine.Parse(args);

        Assert.Null(settings);
        Assert.Equal([expected], errors);
    }

    [Fact]
    public void Parse_SeveralBadArguments_ReportsEveryOne()
    {
        var (_, errors) = MetadataCommandLine.Parse(["--x", "--latency", "-5ms", "--fail-first-mode", "later"]);

        Assert.Equal(3, errors.Count);
    }
}
