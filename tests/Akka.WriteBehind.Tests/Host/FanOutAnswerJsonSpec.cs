using System.Text.Encodings.Web;
using System.Text.Json;
using Akka.WriteBehind.Host.Http;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// A fan-out answer's items are written by hand for speed: the JSON must stay the one the contract's generated metadata
/// writes, field for field, for every shape an item takes.
/// </summary>
public sealed class FanOutAnswerJsonSpec
{
    // the API's settings without the hand-written item writer: what the record's metadata alone writes
    private static readonly HostJsonContext Metadata = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static TheoryData<string> Shapes => new()
    {
        "counter-accepted",
        "account-saved",
        "refused",
        "saturated",
        "escaped",
        "mixed",
    };

    private static FanOutResponse Answer(string shape) => new(shape switch
    {
        "counter-accepted" => [new FanOutItemResult(0, "page:home", 202, Delta: 5, Durability: "journal")],
        "account-saved" => [new FanOutItemResult(3, "acct-1", 200, Balance: -7)],
        "refused" => [new FanOutItemResult(1, "", 400, Error: "invalid_key", Message: "the key is empty")],
        "saturated" => [new FanOutItemResult(2, "k", 429, Error: "saturated", Message: "queue full",
            Saturation: new SaturationResponse("width", 10, 10))],
        "escaped" => [new FanOutItemResult(0, "a+b<c>\"d\\e\u00e9\u0001", 409, Error: "rejected", Message: "line\nbreak 'quoted'")],
        _ =>
        [
            new FanOutItemResult(0, "a", 202, Delta: long.MinValue, Durability: "memory"),
            new FanOutItemResult(1, "b", 503, Error: "unavailable", Message: "no answer"),
            new FanOutItemResult(2, "c", 200, Balance: long.MaxValue),
        ],
    });

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Should_write_an_item_as_its_metadata_does(string shape)
    {
        var answer = Answer(shape);

        var written = JsonSerializer.Serialize(answer, HostJsonContext.Api.FanOutResponse);

        Assert.Equal(JsonSerializer.Serialize(answer, Metadata.FanOutResponse), written);
    }

    [Fact]
    public void Should_write_the_fields_of_an_accepted_increment_only()
    {
        var written = JsonSerializer.Serialize(Answer("counter-accepted"), HostJsonContext.Api.FanOutResponse);

        Assert.Equal("""{"results":[{"index":0,"key":"page:home","status":202,"delta":5,"durability":"journal"}]}""", written);
    }
}
