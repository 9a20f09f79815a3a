namespace TokenInjector.DevStack.Stack;

/// <summary>
/// The programs a stack starts as processes: <c>injector</c>, <c>emulators</c> and <c>sample-workload</c>, each a
/// <c>.dll</c> (run with dotnet) or an executable (the published NativeAOT <c>injector</c>).
/// </summary>
internal sealed record DevPrograms(string Injector, string Emulators, string SampleWorkload)
{
    /// <summary>
    /// The build output of each project, in the same configuration and target framework as the program running from
    /// <paramref name="baseDirectory"/> (<c>src/Demo/bin/Release/net10.0</c> → <c>src/Injector/bin/Release/net10.0</c>).
    /// </summary>
    public static DevPrograms BuildOutputsBeside(string baseDirectory)
    {
        var relative = new List<string>();
        for (var directory = new DirectoryInfo(baseDirectory); directory is not null; directory = directory.Parent)
        {
            if (directory.Parent is { Name: "src" } src)
            {
                var outputPath = Path.Combine([.. relative]);
                return new DevPrograms(
                    Path.Combine(src.FullName, "Injector", outputPath, "injector.dll"),
                    Path.Combine(src.FullName, "Emulators", outputPath, "emulators.dll"),
                    Path.Combine(src.FullName, "SampleWorkload", outputPath, "sample-workload.dll"));
            }

            relative.Insert(0, directory.Name);
        }

        throw new InvalidOperationException($"{baseDirectory} is not the build output of a project under src/");
    }

    /// <summary>The assemblies next to the running one (the test assembly references all three projects).</summary>
    public static DevPrograms NextTo(string directory) => new(
        Path.Combine(directory, "injector.dll"), Path.Combine(directory, "emulators.dll"), Path.Combine(directory, "sample-workload.dll"));

    public IEnumerable<string> Missing() => new[] { Injector, Emulators, SampleWorkload }.Where(path => !File.Exists(path));
}
