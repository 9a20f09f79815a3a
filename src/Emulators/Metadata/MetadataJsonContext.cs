using System.Text.Json.Serialization;

namespace TokenInjector.Emulators.Metadata;

/// <summary>Source-generated serializers, so the emulator needs no reflection (NativeAOT and trimming friendly).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ServiceAccountInfo))]
[JsonSerializable(typeof(EmulatorStats))]
[JsonSerializable(typeof(FaultSettings))]
[JsonSerializable(typeof(RotatedKey))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class MetadataJsonContext : JsonSerializerContext;
