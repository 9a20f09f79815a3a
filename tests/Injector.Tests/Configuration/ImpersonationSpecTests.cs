using TokenInjector.Configuration;

namespace TokenInjector.Tests.Configuration;

/// <summary>
/// <c>--impersonate SERVICE_ACCOUNT[;delegates=SA+SA][=AUDIENCE]</c> in process: each accepted form and what it reads
/// as (written back the same), each refused form with its message, and the rules across entries in the settings.
/// </summary>
public sealed class ImpersonationSpecTests
{
    private const string Invoker = "invoker@my-project.iam.gserviceaccount.com";
    private const string Middle = "middle@my-project.iam.gserviceaccount.com";
    private const string Compute = "123456789012-compute@developer.gserviceaccount.com";

    public static TheoryData<string, string, string[], string?> Accepted() => new()
    {
        { Invoker, Invoker, [], null },
        { Invoker + "=https://svc-abc-uc.a.run.app", Invoker, [], "https://svc-abc-uc.a.run.app" },
        { $"{Invoker};delegates={Middle}=aud", Invoker, [Middle], "aud" },
        { $"{Invoker};delegates={Middle}+{Compute}", Invoker, [Middle, Compute], null },
        { "my-project@appspot.gserviceaccount.com=x=y;z", "my-project@appspot.gserviceaccount.com", [], "x=y;z" },
        { $"{Invoker}=a;delegates={Middle}", Invoker, [], $"a;delegates={Middle}" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Accepted_ReadsAsWritten_AndWritesBackTheSame(string text, string account, string[] delegates, string? audience)
    {
        Assert.True(ImpersonationSpec.TryParse(text, out var spec, out var problem), problem);

        Assert.Equal(new ImpersonationSpec(account, delegates, audience), spec);
        Assert.Equal(text, spec.ToString());
    }

    public static TheoryData<string, string> Refused() => new()
    {
        { "invoker@my-project.iam.gserviceaccount.com;delegates=", "has delegate '', which is not a service account's email (NAME@PROJECT.iam.gserviceaccount.com)" },
        { "=https://a.run.app", "names no service account to act as" },
        { $";delegates={Middle}=https://a.run.app", "names delegates but no service account to act as" },
        { "invoker@example.com", "has service account 'invoker@example.com', which is not a service account's email" },
        { "Invoker@my-project.iam.gserviceaccount.com", "has service account 'Invoker@my-project.iam.gserviceaccount.com', which is not" },
        { "projects/-/serviceAccounts/x", "has service account 'projects/-/serviceAccounts/x', which is not" },
        { "@gserviceaccount.com", "which is not a service account's email" },
        { "a@.gserviceaccount.com", "which is not a service account's email" },
        { "a@my..iam.gserviceaccount.com", "which is not a service account's email" },
        { $"{Invoker};delegates=someone@example.com", "has delegate 'someone@example.com', which is not a service account's email" },
        { $"{Invoker};delegates={Middle}+{Middle}", "names a service account twice in its chain" },
        { $"{Invoker};delegates={Invoker}", "names a service account twice in its chain" },
        { $"{Invoker};as={Middle}", "has unknown parameter ';as='; the only parameter is ;delegates=SA+SA" },
        { $"{Invoker};delegates={Middle};delegates={Compute}", "names ;delegates= twice" },
        { $"{Invoker};delegates", "has parameter ';delegates' without a value" },
        { $"{Invoker}=", "has an audience that is empty" },
        { $"{Invoker}=a b", "has an audience that has ' ' (a space) at position 2" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Refused_SaysWhatIsWrong(string text, string expected)
    {
        Assert.False(ImpersonationSpec.TryParse(text, out _, out var problem));

        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string> BadSettings() => new()
    {
        { ["--impersonate", Invoker, "--impersonate", Middle], $"--impersonate: '{Middle}' is a second entry without an audience; one account acts for every audience no entry names" },
        { ["--impersonate", Invoker + "=a", "--impersonate", Middle + "=a"], $"--impersonate: '{Middle}=a' names its audience again; each audience is fetched as one service account" },
        { ["--impersonate", "nobody"], "--impersonate: 'nobody' has service account 'nobody', which is not a service account's email" },
        { ["--iam-credentials-url", "http://iam.example/"], "--iam-credentials-url: 'http://iam.example/' is not an https:// URL (or an http:// URL on loopback) without query" },
        { ["--iam-credentials-url", "https://iam.example/?x=1"], "--iam-credentials-url: 'https://iam.example/?x=1' is not an https:// URL" },
        { ["--iam-credentials-url", "iam.example"], "--iam-credentials-url: 'iam.example' is not an https:// URL" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Settings_BadEntries_AreExit2ErrorsNamingFlagAndValue(string[] args, string expected)
    {
        var parsed = SidecarSettings.Command.Parse(["--audience", "a", .. args], _ => null);

        var error = Assert.Throws<ConfigurationErrorException>(() => SidecarSettings.From(parsed, _ => null));

        Assert.Contains(error.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Settings_FromTheEnvironmentList_WithTheDefaultsOfTheUrl()
    {
        var environment = new Dictionary<string, string>
        {
            ["TOKEN_INJECTOR_IMPERSONATE"] = $"{Invoker};delegates={Middle}=https://a.run.app,\n{Compute}",
        };

        var settings = SidecarSettings.From(SidecarSettings.Command.Parse(["--audience", "a"], environment.GetValueOrDefault), environment.GetValueOrDefault);

        Assert.Equal([new ImpersonationSpec(Invoker, [Middle], "https://a.run.app"), new ImpersonationSpec(Compute, [], null)], settings.Impersonations);
        Assert.Equal("https://iamcredentials.googleapis.com/", settings.IamCredentialsUrl.AbsoluteUri);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080/")]
    [InlineData("https://iamcredentials-psc.p.googleapis.com/base", "https://iamcredentials-psc.p.googleapis.com/base/")]
    public void Settings_IamUrl_LoopbackHttpOrHttps_EndsWithASlash(string url, string expected)
    {
        var settings = SidecarSettings.From(SidecarSettings.Command.Parse(["--audience", "a", "--iam-credentials-url", url], _ => null), _ => null);

        Assert.Equal(expected, settings.IamCredentialsUrl.AbsoluteUri);
    }
}
