using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace TokenInjector.Commands;

/// <summary>
/// Where <c>injector webhook</c> runs. The image ships two NativeAOT builds of this project (<c>scripts/publish</c>):
/// <c>injector</c>, built without the webhook role so that the sidecar in every pod neither carries nor loads the
/// Kubernetes client and its models (docs/ARCHITECTURE.md "The parts" says what that saves), and <c>injector-webhook</c> next to it, the
/// build with every role. The sidecar build replaces itself with the other one (exec, same arguments, same process),
/// so the command line stays the documented one (docs/ARCHITECTURE.md "The parts"). Builds on the JIT (tests, <c>dotnet injector.dll</c>) have the
/// role built in.
/// </summary>
internal static partial class WebhookRole
{
    /// <summary>The file name of the build with every role, next to the sidecar build.</summary>
    public const string FullBuildName = "injector-webhook";

    private const string BuiltInSwitch = "TokenInjector.WebhookRole.IsBuiltIn";

    /// <summary>false only in a build published with <c>-p:WebhookBuiltIn=false</c>; the trimmer then drops the role.</summary>
    [FeatureSwitchDefinition(BuiltInSwitch)]
    public static bool IsBuiltIn => !AppContext.TryGetSwitch(BuiltInSwitch, out var builtIn) || builtIn;

    /// <summary>Execs the full build with <paramref name="args"/>; returns only when that cannot be done.</summary>
    public static int ExecFullBuild(string[] args)
    {
        var path = Path.Combine(AppContext.BaseDirectory, FullBuildName);
        Execv(path, [path, .. args, null]);
        var error = Marshal.GetLastPInvokeError();
        Console.Error.WriteLine(
            $"injector webhook: this build of injector runs the webhook from {path}, which could not be started " +
            $"({Marshal.GetPInvokeErrorMessage(error)}); the token-injector image ships both (scripts/publish)");
        return 1;
    }

    [LibraryImport("libc", EntryPoint = "execv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Execv(string path, string?[] argv);
}
