namespace TokenInjector.DevStack.Stack;

/// <summary>
/// How <see cref="SidecarProcess"/> runs <c>injector sidecar</c>: which build, its arguments, and what the launcher
/// adds to them. A sidecar meant to serve names its <see cref="SocketPath"/>, which brings its admin listener; a run
/// meant to stop at its configuration, or one whose arguments place both listeners, leaves it null and gets no option
/// but <see cref="Args"/>.
/// </summary>
/// <param name="Injector">The <c>injector</c> program: <c>injector.dll</c> (the JIT build) or a published NativeAOT executable.</param>
/// <param name="Args">The sidecar's options, after <c>sidecar</c> and what the launcher adds.</param>
internal sealed record SidecarLaunch(string Injector, IReadOnlyList<string> Args)
{
    /// <summary>
    /// Where the token API socket goes (<c>--socket</c>); given with it, the admin listener on a free loopback port
    /// (<c>--admin-address 127.0.0.1:0</c>), which the sidecar logs and <see cref="SidecarProcess.StartAsync"/> reads.
    /// Neither is added when null: a repeated option is a configuration error.
    /// </summary>
    public string? SocketPath { get; init; }

    /// <summary>The metadata server, as GCE_METADATA_HOST ("127.0.0.1:41234"); unset when null, never inherited.</summary>
    public string? MetadataHost { get; init; }

    /// <summary>More environment variables, on top of GCE_METADATA_HOST.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>
    /// The user-mode emulator that runs <see cref="Injector"/> when it is built for another machine
    /// (<c>qemu-aarch64</c> for a linux-arm64 build on x64); none when null.
    /// </summary>
    public string? Emulator { get; init; }
}
