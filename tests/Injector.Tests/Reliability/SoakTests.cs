using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// The mixed-load soak (<see cref="MixedLoadSoak"/>): the full run for <c>scripts/reliability --soak</c>
/// (TOKEN_INJECTOR_SOAK_MINUTES, 10 by default) of the JIT build and of the NativeAOT executable the image ships, and
/// the JIT build's soak cut to 60 s in the fast reliability suite so that CI exercises it on every run.
/// </summary>
[Collection(nameof(GceMetadataHostSerialGroup))]
public sealed class SoakTests
{
    [Fact]
    [Trait("Category", "Soak")]
    public Task MixedLoad_ForTheConfiguredMinutes_NoFailedCall_FlatMemory_StableDescriptors_NoLeak()
    {
        var duration = MixedLoadSoak.ConfiguredDuration();
        return MixedLoadSoak.RunAsync($"mixed load for {duration.TotalMinutes:0.#} min", duration);
    }

    [Fact]
    [Trait("Category", "Soak")]
    public Task MixedLoad_NativeAotSidecar_ForTheConfiguredMinutes_NoFailedCall_FlatMemory_StableDescriptors_NoLeak()
    {
        var duration = MixedLoadSoak.ConfiguredDuration();
        return MixedLoadSoak.RunAsync($"mixed load for {duration.TotalMinutes:0.#} min, NativeAOT sidecar", duration, MixedLoadSoak.SidecarBuild.NativeAot());
    }

    [Fact]
    [Trait("Category", "Reliability")]
    public Task MixedLoad_Short_NoFailedCall_FlatMemory_StableDescriptors_NoLeak() =>
        MixedLoadSoak.RunAsync("mixed load, short run in the fast suite (60 s)", TimeSpan.FromSeconds(60));
}
