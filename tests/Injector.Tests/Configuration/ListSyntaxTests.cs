using TokenInjector.Configuration;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Configuration;

/// <summary>The one list syntax (<see cref="ListSyntax"/>) of the annotations and the <c>TOKEN_INJECTOR_*</c> lists, one named row each.</summary>
public sealed class ListSyntaxTests
{
    public static TheoryData<string, string?, string[]> Lists => new()
    {
        { "nothing", null, [] },
        { "empty", "", [] },
        { "one item", "a", ["a"] },
        { "commas", "a,b,c", ["a", "b", "c"] },
        { "newlines (a YAML block scalar)", "a\nb\n", ["a", "b"] },
        { "Windows line ends", "a\r\nb", ["a", "b"] },
        { "both, with blanks around", " a ,\n b,c ", ["a", "b", "c"] },
        { "empty items dropped", ",a,,\n,b,", ["a", "b"] },
        { "blanks inside an item kept", "a b,c", ["a b", "c"] },
    };

    [Theory]
    [MemberData(nameof(Lists))]
    public void Split_List_GivesItsItems(string name, string? text, string[] expected)
    {
        Assert.True(expected.SequenceEqual(ListSyntax.Split(text)), name);
    }

    [Fact]
    public void ARepeatableOptionsVariable_AndAnAnnotation_ReadOneList()
    {
        const string List = "https://a.run.app,\nhttps://b.run.app\n";
        var options = SidecarSettings.Command.Parse([], name => name == SidecarSettings.Options.Audience.EnvironmentVariable ? List : null);

        Assert.Equal(["https://a.run.app", "https://b.run.app"], options.All(SidecarSettings.Options.Audience).Select(v => v.Text));
        Assert.Equal(ListSyntax.Split(List), options.All(SidecarSettings.Options.Audience).Select(v => v.Text));

        var pod = new k8s.Models.V1Pod
        {
            Metadata = new() { Annotations = new Dictionary<string, string> { ["token-injector.dev/audiences"] = List } },
            Spec = new() { Containers = [new() { Name = "app", Image = "app:1" }] },
        };
        var errors = new List<string>();
        var request = InjectionAnnotations.Parse(pod, errors);
        Assert.Empty(errors);
        Assert.Equal(ListSyntax.Split(List), request!.Audiences);
    }
}
