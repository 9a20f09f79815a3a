namespace TokenInjector.Tests.Support;

/// <summary>The bound on every await in tests, so a hang fails the test instead of the run.</summary>
internal static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    /// <summary>A gRPC deadline that ends a stuck call well after any legitimate one.</summary>
    public static DateTime Deadline() => DateTime.UtcNow + Default;
}
