namespace TokenInjector.Demo;

/// <summary>The demo's few knobs: how long it runs, how fast the client calls, how long tokens live.</summary>
internal sealed record DemoOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public double Rate { get; init; } = 5;

    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromSeconds(20);
}
