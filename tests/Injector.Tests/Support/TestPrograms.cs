using TokenInjector.DevStack.Stack;

namespace TokenInjector.Tests.Support;

/// <summary>The solution's programs as the tests run them: the builds next to the test assembly, run with dotnet.</summary>
internal static class TestPrograms
{
    public static DevPrograms All { get; } = DevPrograms.NextTo(AppContext.BaseDirectory);

    public static string Injector => All.Injector;
}
