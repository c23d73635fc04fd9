using System.Text.Json;
using System.Text.Json.Serialization;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// Writes a <see cref="FanOutItemResult"/> field by field, as the generated metadata would (camelCase names, fields that do
/// not apply left out). A fan-out answer holds up to a thousand items, and the generic object writer was a seventh of the
/// Host's CPU under a fan-out load (the relaxed encoder the API keeps rules out the generator's fast path).
/// </summary>
internal sealed class FanOutItemResultConverter : JsonConverter<FanOutItemResult>
{
    private static readonly JsonEncodedText Index = JsonEncodedText.Encode("index");
    private static readonly JsonEncodedText Key = JsonEncodedText.Encode("key");
    private static readonly JsonEncodedText Status = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText Delta = JsonEncodedText.Encode("delta");
    private static readonly JsonEncodedText Durability = JsonEncodedText.Encode("durability");
    private static readonly JsonEncodedText Balance = JsonEncodedText.Encode("balance");
    private static readonly JsonEncodedText Error = JsonEncodedText.Encode("error");
    private static readonly JsonEncodedText Message = JsonEncodedText.Encode("message");
    private static readonly JsonEncodedText Saturation = JsonEncodedText.Encode("saturation");

    public override FanOutItemResult Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the Host writes fan-out answers; it does not read them");

    public override void Write(Utf8JsonWriter writer, FanOutItemResult value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber(Index, value.Index);
        writer.WriteString(Key, value.Key);
        writer.WriteNumber(Status, value.Status);
        if (value.Delta is { } delta)
            writer.WriteNumber(Delta, delta);
        if (value.Durability is { } durability)
            writer.WriteString(Durability, durability);
        if (value.Balance is { } balance)
            writer.WriteNumber(Balance, balance);
        if (value.Error is { } error)
            writer.WriteString(Error, error);
        if (value.Message is { } message)
            writer.WriteString(Message, message);
        if (value.Saturation is { } saturation)
        {
            writer.WritePropertyName(Saturation);
            JsonSerializer.Serialize(writer, saturation, HostJsonContext.Api.SaturationResponse);
        }

        writer.WriteEndObject();
    }
}
