namespace TokenInjector.Tokens;

/// <summary>What the token cache keeps: the configured audiences, and the rules for dynamic ones.</summary>
internal sealed record TokenCacheOptions(
    IReadOnlyList<string> ConfiguredAudiences,
    bool AllowDynamicAudiences,
    int MaxDynamicAudiences,
    TimeSpan DynamicAudienceIdle);
