using System.Text;
using System.Text.Json;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Host.Http;

/// <summary>One item of a <c>POST /counters/increments</c> body.</summary>
/// <param name="Key">The counter's key, unescaped (checked against the key rules later, item by item).</param>
/// <param name="Delta">The delta.</param>
/// <param name="Id">The item's request id, or <c>null</c>.</param>
public readonly record struct IncrementItem(string Key, long Delta, string? Id);

/// <summary>
/// Reads the body of <c>POST /counters/increments</c> in one pass of a <see cref="Utf8JsonReader"/>. It reads a body as a
/// <see cref="JsonDocument"/> reads it (the same syntax errors with the reader's message, escaped property names, the last of
/// a repeated property, a leading byte order mark) and refuses what the route refuses, in the same order and words: not an
/// array, the item count, the first item that is not an object, then item by item its <c>key</c>, <c>delta</c> and
/// <c>id</c>. A document per request and three property lookups per item were an eighth of the Host's CPU under fan-out load.
/// </summary>
public static class IncrementItemsReader
{
    /// <summary>
    /// Reads <paramref name="body"/> into <paramref name="items"/>; returns <c>null</c>, or the message of the 400 that refuses
    /// the whole body (nothing is added then).
    /// </summary>
    /// <param name="body">The request body as received.</param>
    /// <param name="maxItems">Most items a body may hold.</param>
    /// <param name="shape">What the body must look like; every message ends with it.</param>
    /// <param name="items">Receives the items, in the body's order.</param>
    public static string? TryRead(ReadOnlySpan<byte> body, int maxItems, string shape, List<IncrementItem> items)
    {
        if (body.StartsWith(Utf8Bom))
            body = body[Utf8Bom.Length..];
        var fields = new List<ItemFields>();
        var count = 0;
        var firstNotObject = -1;
        bool isArray;
        try
        {
            var reader = new Utf8JsonReader(body);
            reader.Read();
            isArray = reader.TokenType == JsonTokenType.StartArray;
            if (!isArray)
                reader.Skip();
            else
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var index = count++;
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        if (firstNotObject < 0)
                            firstNotObject = index;
                        reader.Skip();
                        continue;
                    }

                    var item = ReadItem(ref reader);
                    if (count <= maxItems)
                        fields.Add(item);
                }
            }

            reader.Read(); // anything after the root value but whitespace is a syntax error, as for a document
        }
        catch (JsonException e)
        {
            return $"the body is not valid JSON ({e.Message}); {shape}";
        }

        if (!isArray)
            return shape;
        if (count == 0 || count > maxItems)
            return $"the array holds {count} items; 1 to {maxItems} are allowed; {shape}";
        if (firstNotObject >= 0)
            return $"item {firstNotObject} is not a JSON object; {shape}";

        for (var i = 0; i < fields.Count; i++)
        {
            var item = fields[i];
            if (item.Key is null)
                return item.KeyRaw.Length == 0
                    ? $"item {i}: \"key\" is missing; {shape}"
                    : $"item {i}: \"key\" is {Raw(body, item.KeyRaw)}, not a string; {shape}";
            if (!item.HasDelta)
                return item.DeltaRaw.Length == 0
                    ? $"item {i}: \"delta\" is missing; {shape}"
                    : $"item {i}: \"delta\" is {Raw(body, item.DeltaRaw)}; {shape}";
            if (item.IdRaw.Length > 0)
                return $"item {i}: \"id\" is {Raw(body, item.IdRaw)}, not a string; {shape}";
            if (item.Id is not null && !RequestIds.TryValidate(item.Id, out var error))
                return $"item {i}: \"id\" is invalid: {error}; {shape}";
        }

        foreach (var item in fields)
            items.Add(new IncrementItem(item.Key!, item.Delta, item.Id));
        return null;
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>Reads one object item, the reader on its start; the last of a repeated property counts.</summary>
    private static ItemFields ReadItem(ref Utf8JsonReader reader)
    {
        var item = new ItemFields();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueTextEquals("key"u8) ? Field.Key
                : reader.ValueTextEquals("delta"u8) ? Field.Delta
                : reader.ValueTextEquals("id"u8) ? Field.Id
                : Field.Other;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            var token = reader.TokenType;
            switch (name)
            {
                case Field.Key when token == JsonTokenType.String:
                    (item.Key, item.KeyRaw) = (reader.GetString(), default);
                    break;
                case Field.Key:
                    item.Key = null;
                    item.KeyRaw = RawRange(ref reader, start);
                    break;
                case Field.Delta when token == JsonTokenType.Number && reader.TryGetInt64(out var delta):
                    (item.HasDelta, item.Delta, item.DeltaRaw) = (true, delta, default);
                    break;
                case Field.Delta:
                    (item.HasDelta, item.Delta) = (false, 0);
                    item.DeltaRaw = RawRange(ref reader, start);
                    break;
                case Field.Id when token == JsonTokenType.Null:
                    (item.Id, item.IdRaw) = (null, default);
                    break;
                case Field.Id when token == JsonTokenType.String:
                    (item.Id, item.IdRaw) = (reader.GetString(), default);
                    break;
                case Field.Id:
                    item.Id = null;
                    item.IdRaw = RawRange(ref reader, start);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return item;
    }

    /// <summary>Where the value the reader is on was written, after skipping past it (an object or array as a whole).</summary>
    private static (int Start, int Length) RawRange(ref Utf8JsonReader reader, int start)
    {
        reader.Skip();
        return (start, (int)reader.BytesConsumed - start);
    }

    private static string Raw(ReadOnlySpan<byte> body, (int Start, int Length) raw) => Encoding.UTF8.GetString(body.Slice(raw.Start, raw.Length));

    private enum Field
    {
        Other,
        Key,
        Delta,
        Id,
    }

    /// <summary>
    /// What one item gave: a value, or where a value of the wrong type was written (length 0: none; a missing field has
    /// neither).
    /// </summary>
    private struct ItemFields
    {
        public string? Key;
        public (int Start, int Length) KeyRaw;
        public bool HasDelta;
        public long Delta;
        public (int Start, int Length) DeltaRaw;
        public string? Id;
        public (int Start, int Length) IdRaw;
    }
}
