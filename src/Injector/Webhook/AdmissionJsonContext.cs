using System.Text.Json;
using System.Text.Json.Serialization;

namespace TokenInjector.Webhook;

/// <summary>Source-generated JSON for the AdmissionReview envelope: no reflection, so it works in the NativeAOT binary.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AdmissionReview))]
internal sealed partial class AdmissionJsonContext : JsonSerializerContext;
