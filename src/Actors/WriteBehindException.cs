namespace Akka.WriteBehind;

/// <summary>
/// A refusal or failure thrown by an awaited facade call whose task carries a typed result (so the refusal cannot be a
/// reply), with the same <see cref="ErrorCode"/> the reply of the message protocol carries for the same condition. Catch
/// this type to handle every feature's refusals alike; switch on <see cref="Code"/>.
/// </summary>
public class WriteBehindException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The key the call was for.</param>
    /// <param name="code">Why, as a code.</param>
    /// <param name="message">Why, for people.</param>
    public WriteBehindException(string key, ErrorCode code, string message)
        : base(message)
    {
        Key = key;
        Code = code;
    }

    /// <summary>The key the call was for (empty when the key itself was missing).</summary>
    public string Key { get; }

    /// <summary>Why, as a code to switch on.</summary>
    public ErrorCode Code { get; }
}
