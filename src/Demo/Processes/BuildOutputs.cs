namespace TokenInjector.Demo.Processes;

/// <summary>
/// Where the demo finds the programs it starts: the build output of each project, in the same configuration and
/// target framework as the demo itself (<c>src/Demo/bin/Release/net10.0</c> → <c>src/Injector/bin/Release/net10.0</c>).
/// </summary>
internal sealed record BuildOutputs(string Injector, string Emulators, string SampleWorkload)
{
    public static BuildOutputs Locate(string demoDirectory)
    {
        var here = new DirectoryInfo(demoDirectory);
        var relative = new List<string>();
        for (var directory = here; directory is not null; directory = directory.Parent)
        {
            if (directory.Name == "Demo" && directory.Parent is { Name: "src" } src)
            {
                var outputPath = Path.Combine([.. relative]);
                return new BuildOutputs(
                    Path.Combine(src.FullName, "Injector", outputPath, "injector.dll"),
                    Path.Combine(src.FullName, "Emulators", outputPath, "emulators.dll"),
                    Path.Combine(src.FullName, "SampleWorkload", outputPath, "sample-workload.dll"));
            }

            relative.Insert(0, directory.Name);
        }

        throw new InvalidOperationException($"{demoDirectory} is not inside src/Demo: run the demo with scripts/demo");
    }

    public IEnumerable<string> Missing() => new[] { Injector, Emulators, SampleWorkload }.Where(path => !File.Exists(path));
}
