using System.Text;
using System.Text.Json;
using Akka.WriteBehind.Host.Http;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// The fan-out increments body is read in one pass of a JSON reader for speed: it must read every body as a parsed
/// document does (the same items, the same refusal in the same words), tried against the document-based reading it
/// replaced.
/// </summary>
public sealed class IncrementItemsReaderSpec
{
    private const int MaxItems = 5;
    private const string Shape = "the shape";

    public static TheoryData<string> Bodies => new()
    {
        // read
        """[{"key": "a", "delta": 5}]""",
        """  [ {"key":"a","delta":-5,"id":"r-1"} , {"delta":0,"key":"b","id":null} ]  """,
        """[{"key": "a", "delta": 1, "other": {"deep": [1, {"x": "y"}]}, "more": [[], {}]}]""",
        """[{"k\u0065y": "a\u00e9\"\\", "delt\u0061": 9223372036854775807, "\u0069d": "x\u0041"}]""",
        """[{"key": "first", "key": "last", "delta": 1, "delta": 2}]""",
        """[{"key": 1, "key": "after-a-number", "delta": "x", "delta": -9223372036854775808}]""",
        """[{"key": "", "delta": 1}, {"key": "a b", "delta": 1}]""", // bad keys are the route's to refuse, item by item
        "\uFEFF[{\"key\": \"after-a-byte-order-mark\", \"delta\": 1}]",
        // not JSON
        "",
        "   ",
        "[",
        """[{"key": "a", "delta": 1},]""",
        """[{"key": "a", "delta": 1}] x""",
        """[{"key": "a", "delta": 1}][]""",
        """[{"key": 'a', "delta": 1}]""",
        """[1, {"key": "a", "delta": 1}, {"key": """,
        "[" + new string('[', 70) + new string(']', 70) + "]",
        """[{"key": "a", "delta": 01}]""",
        // not the shape
        """{"key": "a", "delta": 1}""",
        "\"text\"",
        "42",
        "null",
        "[]",
        """[{"key":"a","delta":1},{"key":"a","delta":1},{"key":"a","delta":1},{"key":"a","delta":1},{"key":"a","delta":1},{"key":"a","delta":1}]""",
        """[{"key": "a", "delta": 1}, [1, 2], "s"]""",
        """[{"delta": 1}]""",
        """[{"key": 5, "delta": 1}]""",
        """[{"key": {"a": [1, "b"]}, "delta": 1}]""",
        """[{"key": "last-is-wrong", "key": null, "delta": 1}]""",
        """[{"key": "a"}]""",
        """[{"key": "a", "delta": 1.5}]""",
        """[{"key": "a", "delta": 1e3}]""",
        """[{"key": "a", "delta": "5"}]""",
        """[{"key": "a", "delta": 99999999999999999999}]""",
        """[{"key": "a", "delta": [1]}]""",
        """[{"key": "a", "delta": 1, "id": 5}]""",
        """[{"key": "a", "delta": 1, "id": {"x": 1}}]""",
        """[{"key": "a", "delta": 1, "id": ""}]""",
        """[{"key": "a", "delta": 1, "id": "has space"}]""",
        """[{"key": "ok", "delta": 1, "id": "r"}, {"key": "b", "delta": true}]""",
        """[{"delta": 1, "id": 5}]""",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Should_read_a_body_as_the_parsed_document_did(string text)
    {
        var body = Encoding.UTF8.GetBytes(text);
        var items = new List<IncrementItem>();
        var error = IncrementItemsReader.TryRead(body, MaxItems, Shape, items);

        var (expectedItems, expectedError) = await AsDocumentAsync(body);
        Assert.Equal(expectedError, error);
        Assert.Equal(expectedItems, items);
    }

    [Fact]
    public void Should_refuse_nothing_it_can_read_and_add_nothing_it_refuses()
    {
        var items = new List<IncrementItem>();
        Assert.Null(IncrementItemsReader.TryRead("""[{"key": "a", "delta": 2, "id": "r-1"}, {"key": "a", "delta": 3}]"""u8, MaxItems, Shape, items));
        Assert.Equal([new IncrementItem("a", 2, "r-1"), new IncrementItem("a", 3, null)], items);

        items.Clear();
        Assert.Equal("item 1: \"delta\" is \"x\"; the shape",
            IncrementItemsReader.TryRead("""[{"key": "a", "delta": 2}, {"key": "b", "delta": "x"}]"""u8, MaxItems, Shape, items));
        Assert.Empty(items);
    }

    /// <summary>
    /// How the route read a body with a <see cref="JsonDocument"/> parsed from the request stream (which skips a byte order
    /// mark): the reading this reader replaced, message for message.
    /// </summary>
    private static async Task<(List<IncrementItem> Items, string? Error)> AsDocumentAsync(byte[] body)
    {
        var items = new List<IncrementItem>();
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(new MemoryStream(body));
        }
        catch (JsonException e)
        {
            return (items, $"the body is not valid JSON ({e.Message}); {Shape}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
                return (items, Shape);
            if (root.GetArrayLength() is var count && (count == 0 || count > MaxItems))
                return (items, $"the array holds {count} items; 1 to {MaxItems} are allowed; {Shape}");
            if (root.EnumerateArray().Select((item, index) => (item, index)).FirstOrDefault(e => e.item.ValueKind != JsonValueKind.Object) is { item.ValueKind: not JsonValueKind.Undefined } bad)
                return (items, $"item {bad.index} is not a JSON object; {Shape}");

            var index = 0;
            foreach (var item in root.EnumerateArray())
            {
                if (!item.TryGetProperty("key", out var key))
                    return ([], $"item {index}: \"key\" is missing; {Shape}");
                if (key.ValueKind != JsonValueKind.String)
                    return ([], $"item {index}: \"key\" is {key.GetRawText()}, not a string; {Shape}");
                if (!item.TryGetProperty("delta", out var delta))
                    return ([], $"item {index}: \"delta\" is missing; {Shape}");
                if (delta.ValueKind != JsonValueKind.Number || !delta.TryGetInt64(out var value))
                    return ([], $"item {index}: \"delta\" is {delta.GetRawText()}; {Shape}");
                string? id = null;
                if (item.TryGetProperty("id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
                {
                    if (idElement.ValueKind != JsonValueKind.String)
                        return ([], $"item {index}: \"id\" is {idElement.GetRawText()}, not a string; {Shape}");
                    id = idElement.GetString()!;
                    if (!RequestIds.TryValidate(id, out var error))
                        return ([], $"item {index}: \"id\" is invalid: {error}; {Shape}");
                }

                items.Add(new IncrementItem(key.GetString()!, value, id));
                index++;
            }

            return (items, null);
        }
    }
}
