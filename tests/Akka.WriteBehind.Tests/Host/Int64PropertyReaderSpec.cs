using System.Text;
using System.Text.Json;
using Akka.WriteBehind.Host.Http;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// The single-resource body (<c>{"delta": 5}</c>) is read in one pass of a JSON reader for speed: it must read every body
/// as a parsed document does (the same value, the same refusal in the same words), tried against the document-based
/// reading it replaced.
/// </summary>
public sealed class Int64PropertyReaderSpec
{
    private const string Property = "delta";
    private const string Shape = "the shape";

    public static TheoryData<string> Bodies => new()
    {
        // read
        """{"delta": 5}""",
        """  {"delta":-5}  """,
        """{"other": {"deep": [1, {"delta": "x"}]}, "delta": 9223372036854775807, "more": [[], {}]}""",
        """{"delt\u0061": -9223372036854775808}""",
        """{"delta": "first", "delta": 2}""",
        """{"delta": 0}""",
        "\uFEFF{\"delta\": 1}",
        // not JSON
        "",
        "   ",
        "{",
        """{"delta": 1,}""",
        """{"delta": 1} x""",
        """{"delta": 1}{}""",
        """{'delta': 1}""",
        """{"delta": 01}""",
        """{"delta": 1, "x": """,
        """{"x": """ + new string('[', 70) + new string(']', 70) + "}",
        "\uFEFF{\"delta\": }",
        // not the shape
        "[]",
        """[{"delta": 1}]""",
        "\"text\"",
        "42",
        "null",
        "{}",
        """{"Delta": 1}""",
        """{"deltas": 1}""",
        """{"delta": 1.5}""",
        """{"delta": 1e3}""",
        """{"delta": "5"}""",
        """{"delta": 99999999999999999999}""",
        """{"delta": -9223372036854775809}""",
        """{"delta": [1, {"a": "b"}]}""",
        """{"delta": {"value": 1}}""",
        """{"delta": null}""",
        """{"delta": true}""",
        """{"delta": 2, "delta": "last-is-wrong"}""",
        """{"delta": "esc\u00e9\"aped"}""",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Should_read_a_body_as_the_parsed_document_did(string text)
    {
        var body = Encoding.UTF8.GetBytes(text);
        var error = Int64PropertyReader.TryRead(body, Property, Shape, out var value);

        var (expectedValue, expectedError) = await AsDocumentAsync(body);
        Assert.Equal(expectedError, error);
        Assert.Equal(expectedValue, value);
    }

    [Fact]
    public void Should_read_the_named_property_and_give_zero_with_a_refusal()
    {
        Assert.Null(Int64PropertyReader.TryRead("""{"amount": 7, "delta": 3}"""u8, "amount", Shape, out var amount));
        Assert.Equal(7, amount);

        Assert.Equal("\"amount\" is missing; the shape", Int64PropertyReader.TryRead("""{"delta": 3}"""u8, "amount", Shape, out var missing));
        Assert.Equal(0, missing);
    }

    /// <summary>
    /// How the routes read a body with a <see cref="JsonDocument"/> parsed from the request stream (which skips a byte order
    /// mark): the reading this reader replaced, message for message.
    /// </summary>
    private static async Task<(long Value, string? Error)> AsDocumentAsync(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(new MemoryStream(body));
        }
        catch (JsonException e)
        {
            return (0, $"the body is not valid JSON ({e.Message}); {Shape}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (0, Shape);
            if (!document.RootElement.TryGetProperty(Property, out var element))
                return (0, $"\"{Property}\" is missing; {Shape}");
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var value))
                return (0, $"\"{Property}\" is {element.GetRawText()}; {Shape}");
            return (value, null);
        }
    }
}
