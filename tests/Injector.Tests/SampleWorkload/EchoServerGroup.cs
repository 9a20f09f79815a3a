namespace TokenInjector.Tests.SampleWorkload;

/// <summary>
/// One echo server for every test that calls it. The classes run one after another, so the 10 MB transfers do not
/// compete with the client-mode tests, whose assertions depend on calls completing within a few seconds.
/// </summary>
[CollectionDefinition(Name)]
public sealed class EchoServerGroup : ICollectionFixture<EchoServerFixture>
{
    public const string Name = "Echo server";
}
