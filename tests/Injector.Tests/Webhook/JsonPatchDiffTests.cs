using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

public sealed class JsonPatchDiffTests
{
    public static TheoryData<string, string, string> Cases() => new()
    {
        { "equal documents", """{"a":1,"b":[1,2]}""", """{"a":1,"b":[1,2]}""" },
        { "member added", """{"a":1}""", """{"a":1,"b":{"c":true}}""" },
        { "member removed", """{"a":1,"b":2}""", """{"a":1}""" },
        { "scalar replaced", """{"a":1}""", """{"a":"one"}""" },
        { "type changed", """{"a":{"x":1}}""", """{"a":[1]}""" },
        { "null to value", """{"a":null}""", """{"a":3}""" },
        { "append to array", """{"l":[1,2]}""", """{"l":[1,2,3,4]}""" },
        { "prepend to array", """{"l":[{"n":"x"},{"n":"y"}]}""", """{"l":[{"n":"new"},{"n":"x"},{"n":"y"}]}""" },
        { "insert in the middle", """{"l":[1,2,3]}""", """{"l":[1,9,2,3]}""" },
        { "remove from array", """{"l":[1,2,3,4]}""", """{"l":[1,4]}""" },
        { "array emptied", """{"l":[1,2]}""", """{"l":[]}""" },
        { "element changed in place", """{"l":[{"n":"a","v":1},{"n":"b"}]}""", """{"l":[{"n":"a","v":2,"w":3},{"n":"b"}]}""" },
        { "keys needing escapes", """{"a/b":1,"c~d":{"e/f~":1}}""", """{"a/b":2,"c~d":{"e/f~":2,"g":0}}""" },
        { "nested arrays", """{"l":[[1],[2,3]]}""", """{"l":[[1,0],[3]]}""" },
        { "root replaced", """[1]""", """{"a":1}""" },
        { "duplicates in array", """{"l":[1,1,1]}""", """{"l":[1,1,1,1]}""" },
        { "element moved", """{"l":[{"name":"s"},{"name":"a"},{"name":"b"}]}""", """{"l":[{"name":"a"},{"name":"b"},{"name":"s","x":1}]}""" },
        { "elements swapped", """{"l":[{"name":"a","v":1},{"name":"b","v":2}]}""", """{"l":[{"name":"b","v":2},{"name":"a","v":1}]}""" },
        { "same names repeated", """{"l":[{"name":"v","p":"/a"},{"name":"v","p":"/b"}]}""", """{"l":[{"name":"v","p":"/b"}]}""" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Create_PatchAppliedToSource_GivesTarget(string name, string from, string to)
    {
        var source = JsonNode.Parse(from)!;
        var target = JsonNode.Parse(to)!;

        var patch = JsonPatchDiff.Create(source, target);
        var patched = JsonPatchApplier.Apply(source, patch);

        Assert.True(JsonNode.DeepEquals(target, patched), $"{name}: {patch.ToJsonString()} gave {patched.ToJsonString()}");
    }

    [Fact]
    public void Create_EqualDocuments_GivesNoOperation() =>
        Assert.Empty(JsonPatchDiff.Create(JsonNode.Parse("""{"a":[1,{"b":2}]}"""), JsonNode.Parse("""{"a":[1,{"b":2}]}""")));

    [Fact]
    public void Create_ElementPrepended_IsOneAddAtIndexZero()
    {
        var patch = JsonPatchDiff.Create(JsonNode.Parse("""{"l":[{"n":"x"}]}"""), JsonNode.Parse("""{"l":[{"n":"new"},{"n":"x"}]}"""));

        var operation = Assert.Single(patch)!;
        Assert.Equal("add", operation["op"]!.GetValue<string>());
        Assert.Equal("/l/0", operation["path"]!.GetValue<string>());
    }

    [Fact]
    public void Create_ElementChanged_PatchesOnlyTheChangedMember()
    {
        var patch = JsonPatchDiff.Create(
            JsonNode.Parse("""{"c":[{"name":"app","image":"x","env":[{"name":"A"}]}]}"""),
            JsonNode.Parse("""{"c":[{"name":"app","image":"x","env":[{"name":"A"},{"name":"B"}]}]}"""));

        var operation = Assert.Single(patch)!;
        Assert.Equal("/c/0/env/1", operation["path"]!.GetValue<string>());
    }

    [Fact]
    public void Create_ElementReplacedByAnotherName_IsRemoveAndAdd_NeverAMemberByMemberRewrite()
    {
        var patch = JsonPatchDiff.Create(
            JsonNode.Parse("""{"c":[{"name":"old","image":"x","unknownToTheModels":1}]}"""),
            JsonNode.Parse("""{"c":[{"name":"new","image":"x"}]}"""));

        Assert.Equal([("remove", "/c/0"), ("add", "/c/0")], patch.Select(o => ((string)o!["op"]!, (string)o["path"]!)));
    }

    [Fact]
    public void Escape_FollowsRfc6901() => Assert.Equal("a~1b~0c", JsonPatchDiff.Escape("a/b~c"));
}
