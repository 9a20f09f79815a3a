using TokenInjector.Emulators.CloudRun;
using TokenInjector.Emulators.Metadata;

namespace TokenInjector.DevStack.Stack;

/// <summary>
/// A <see cref="LocalStack"/> hosted in this process: every part on one clock (which a test may run faster than real
/// time), and the emulators' own options at hand for the faults and quirks a test switches on.
/// </summary>
internal sealed record InProcessHosting
{
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Changes the metadata emulator's options before it starts.</summary>
    public Action<MetadataEmulatorOptions>? Metadata { get; init; }

    /// <summary>Changes the Cloud Run emulator's options before it starts.</summary>
    public Action<CloudRunEmulatorOptions>? CloudRun { get; init; }

    /// <summary>The container behind the Cloud Run emulator (h2c); the sample echo service when null.</summary>
    public Uri? Upstream { get; init; }
}
