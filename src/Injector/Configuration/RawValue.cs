namespace TokenInjector.Configuration;

/// <summary>A value as the user wrote it, with where it came from so that errors can point at it.</summary>
internal sealed record RawValue(string Text, string Source);
