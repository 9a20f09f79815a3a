namespace TokenInjector.SampleWorkload.Client;

/// <summary>
/// Settings of <c>sample-workload client</c>. The target normally comes from the <c>TOKEN_INJECTOR_ROUTE_&lt;PORT&gt;</c>
/// variable the token-injector webhook adds for each route, so the app needs no configuration of its own.
/// </summary>
internal sealed record ClientOptions
{
    public const string RouteVariablePrefix = "TOKEN_INJECTOR_ROUTE_";

    public required Uri Target { get; init; }

    public double Rate { get; init; } = 5;

    /// <summary>Null: run until stopped.</summary>
    public TimeSpan? Duration { get; init; }

    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int StreamMessages { get; init; } = 20;

    public int StreamIntervalMs { get; init; } = 500;
}
