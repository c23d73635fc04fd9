namespace Akka.WriteBehind.Tests.Counters;

public sealed class KeyRulesSpec
{
    [Theory]
    [InlineData("a")]
    [InlineData("user:42/views")]
    [InlineData("ключ")]
    [InlineData("emoji-🙂")]
    public void Should_accept_valid_keys(string key)
    {
        Assert.True(KeyRules.TryValidate(key, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("line\nbreak", "control")]
    [InlineData("del\u007f", "control")]
    public void Should_refuse_invalid_keys_with_a_reason(string? key, string reason)
    {
        Assert.False(KeyRules.TryValidate(key, out var error));
        Assert.Contains(reason, error);
    }

    [Theory]
    [InlineData("a\u0000", "U+0000")]
    [InlineData("a\u001fb", "U+001F")]
    [InlineData("c1\u0080", "U+0080")]
    [InlineData("nel\u0085", "U+0085")]
    [InlineData("\u009f-last-c1", "U+009F")]
    [InlineData("both\u0090\u0001", "U+0001")]
    public void Should_refuse_every_control_character_and_name_one(string key, string named)
    {
        Assert.False(KeyRules.TryValidate(key, out var error));
        Assert.Contains(named, error);
    }

    [Theory]
    [InlineData("space\u0020")]
    [InlineData("tilde~")]
    [InlineData("nbsp\u00a0")]
    [InlineData("latin\u00ff")]
    public void Should_accept_the_characters_next_to_the_control_ranges(string key) => Assert.True(KeyRules.TryValidate(key, out _));

    [Fact]
    public void Should_count_utf8_bytes_not_characters()
    {
        Assert.True(KeyRules.TryValidate(new string('€', 85), out _));      // 255 bytes
        Assert.False(KeyRules.TryValidate(new string('€', 86), out var e)); // 258 bytes
        Assert.Contains("258", e);
        Assert.True(KeyRules.TryValidate(new string('a', 256), out _));   // 256 bytes, one per character
        Assert.False(KeyRules.TryValidate(new string('a', 257), out e));
        Assert.Contains("257", e);
    }
}
