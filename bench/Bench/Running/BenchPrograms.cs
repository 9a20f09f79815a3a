namespace TokenInjector.Bench.Running;

/// <summary>
/// The published programs a run measures, from the directory <c>scripts/bench</c> publishes into
/// (<c>injector/injector</c>, <c>bare-kestrel/bare-kestrel</c>, <c>emulators/emulators</c>), and how each was built.
/// </summary>
internal sealed record BenchPrograms(string Injector, string BareKestrel, string Emulators)
{
    public static BenchPrograms In(string directory) => new(
        Path.Combine(directory, "injector", "injector"),
        Path.Combine(directory, "bare-kestrel", "bare-kestrel"),
        Path.Combine(directory, "emulators", "emulators"));

    /// <summary>The programs not published yet; the bare Kestrel baseline only counts when the run needs it.</summary>
    public IEnumerable<string> Missing(bool baseline) =>
        new[] { Injector, Emulators }.Concat(baseline ? [BareKestrel] : []).Where(path => !File.Exists(path));

    /// <summary>
    /// Read from the binary's folder rather than from the project: a JIT app is an apphost next to its <c>.dll</c>,
    /// a NativeAOT app is the executable alone.
    /// </summary>
    public static string BuildOf(string program) =>
        File.Exists(Path.ChangeExtension(program, ".dll")) ? "JIT (framework-dependent, apphost)" : "NativeAOT";
}
