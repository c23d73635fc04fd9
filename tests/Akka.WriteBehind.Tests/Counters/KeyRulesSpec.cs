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

    [Fact]
    public void Should_count_utf8_bytes_not_characters()
    {
        Assert.True(KeyRules.TryValidate(new string('€', 85), out _));      // 255 bytes
        Assert.False(KeyRules.TryValidate(new string('€', 86), out var e)); // 258 bytes
        Assert.Contains("258", e);
    }
}
