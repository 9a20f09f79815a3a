using System.Net;
using System.Text;
using System.Text.Json;
using TokenInjector.Tests.Support;
using static TokenInjector.Tests.Emulators.Metadata.MetadataTestSupport;

namespace TokenInjector.Tests.Emulators.Metadata;

/// <summary>
/// The metadata emulator's instance attributes: values with ETags, recursive directories, and wait_for_change long
/// polls that end when a test changes the value (last_etag, timeout_sec), as the real server's.
/// </summary>
public sealed class InstanceAttributesTests
{
    private const string Attributes = "/computeMetadata/v1/instance/attributes/";

    [Fact]
    public async Task Value_HasAnETag_AndRecursiveDirectoryIsJson()
    {
        await using var emulator = await StartAsync();
        emulator.SetAttribute("color", "blue");
        emulator.SetAttribute("size", "10");
        using var client = CreateClient(emulator);

        using var value = await client.SendMetadataAsync(Attributes + "color", flavor: true);
        using var listing = await client.SendMetadataAsync(Attributes, flavor: true);
        using var recursive = await client.SendMetadataAsync(Attributes + "?recursive=true", flavor: true);
        using var missing = await client.SendMetadataAsync(Attributes + "nothing", flavor: true);

        Assert.Equal("blue", await value.Content.ReadAsStringAsync().Bounded());
        Assert.Equal(16, value.Headers.ETag?.Tag.Trim('"').Length ?? value.Headers.GetValues("ETag").Single().Length);
        Assert.Equal("color\nsize\n", await listing.Content.ReadAsStringAsync().Bounded());
        Assert.Equal("application/json", recursive.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await recursive.Content.ReadAsStringAsync().Bounded());
        Assert.Equal("10", json.RootElement.GetProperty("size").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task WaitForChange_StaysOpenUntilTheValueChanges()
    {
        await using var emulator = await StartAsync();
        emulator.SetAttribute("color", "blue");
        using var client = CreateClient(emulator);
        using var first = await client.SendMetadataAsync(Attributes + "color", flavor: true);

        // With last_etag: a poll that reached the server only after the change below still sees it.
        var poll = client.SendMetadataAsync($"{Attributes}color?wait_for_change=true&last_etag={first.Headers.GetValues("ETag").Single()}", flavor: true);
        emulator.SetAttribute("other", "x"); // another attribute: this answer is unchanged, the poll goes on
        using (var roundTrip = await client.SendMetadataAsync(Attributes + "other", flavor: true))
        {
            Assert.Equal("x", await roundTrip.Content.ReadAsStringAsync().Bounded());
        }

        Assert.False(poll.IsCompleted, "the long poll answered before its value changed");
        emulator.SetAttribute("color", "red");

        using var answer = await poll.Bounded();
        Assert.Equal("red", await answer.Content.ReadAsStringAsync().Bounded());
    }

    [Fact]
    public async Task WaitForChange_WithAnOldETag_AnswersAtOnce_AndTimeoutSecEndsAnUnchangedPoll()
    {
        await using var emulator = await StartAsync();
        emulator.SetAttribute("color", "blue");
        using var client = CreateClient(emulator);
        using var first = await client.SendMetadataAsync(Attributes + "color", flavor: true);
        var blueTag = first.Headers.GetValues("ETag").Single();
        emulator.SetAttribute("color", "green");

        using var changed = await client.SendMetadataAsync($"{Attributes}color?wait_for_change=true&last_etag={blueTag}", flavor: true);
        var greenTag = changed.Headers.GetValues("ETag").Single();
        using var timedOut = await client.SendMetadataAsync($"{Attributes}color?wait_for_change=true&last_etag={greenTag}&timeout_sec=1", flavor: true);

        Assert.Equal("green", await changed.Content.ReadAsStringAsync().Bounded());
        Assert.NotEqual(blueTag, greenTag);
        Assert.Equal(HttpStatusCode.OK, timedOut.StatusCode);
        Assert.Equal(greenTag, timedOut.Headers.GetValues("ETag").Single());
    }

    [Fact]
    public async Task ControlApi_SetsAndRemovesAttributes()
    {
        await using var emulator = await StartAsync();
        using var client = CreateClient(emulator);

        using var set = await client.PostAsync("/emulator/attributes", new StringContent("{\"a\":\"1\",\"b\":\"2\"}", Encoding.UTF8, "application/json")).Bounded();
        using var removed = await client.PostAsync("/emulator/attributes", new StringContent("{\"a\":null}", Encoding.UTF8, "application/json")).Bounded();
        using var bad = await client.PostAsync("/emulator/attributes", new StringContent("{\"a/b\":\"1\"}", Encoding.UTF8, "application/json")).Bounded();
        using var listing = await client.SendMetadataAsync(Attributes, flavor: true);

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("b\n", await listing.Content.ReadAsStringAsync().Bounded());
    }
}
