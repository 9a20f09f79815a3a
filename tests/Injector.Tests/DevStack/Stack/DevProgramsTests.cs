using TokenInjector.DevStack.Stack;

namespace TokenInjector.Tests.DevStack.Stack;

public sealed class DevProgramsTests
{
    [Fact]
    public void BuildOutputsBeside_MirrorTheRunningProgramsOwnOutputPath()
    {
        var programs = DevPrograms.BuildOutputsBeside("/repo/src/Demo/bin/Release/net10.0/");

        Assert.Equal("/repo/src/Injector/bin/Release/net10.0/injector.dll", programs.Injector);
        Assert.Equal("/repo/src/Emulators/bin/Release/net10.0/emulators.dll", programs.Emulators);
        Assert.Equal("/repo/src/SampleWorkload/bin/Release/net10.0/sample-workload.dll", programs.SampleWorkload);
    }

    [Fact]
    public void BuildOutputsBeside_OutsideSrc_SaysSo()
    {
        var error = Assert.Throws<InvalidOperationException>(() => DevPrograms.BuildOutputsBeside("/opt/app/"));

        Assert.Contains("not the build output of a project under src/", error.Message, StringComparison.Ordinal);
    }
}
