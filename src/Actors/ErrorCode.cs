namespace Akka.WriteBehind;

/// <summary>
/// Why a command was refused. Every refusal in Akka.WriteBehind is a typed reply carrying one of these codes,
/// so callers can switch on it; the Host maps them to HTTP status codes.
/// </summary>
public enum ErrorCode
{
    /// <summary>The key is empty, longer than <see cref="KeyRules.MaxKeyBytes"/> UTF-8 bytes, or contains control characters (HTTP 400).</summary>
    InvalidKey,

    /// <summary>An argument other than the key is not acceptable (HTTP 400).</summary>
    InvalidArgument,

    /// <summary>Applying the command would overflow a 64-bit running sum; nothing was changed (HTTP 409).</summary>
    Overflow,

    /// <summary>A bounded buffer on the path is full; the command was not queued (HTTP 429).</summary>
    Saturated,

    /// <summary>
    /// The store failed (HTTP 503). Counters keep the data and retry the write; a batch whose load or save failed answers
    /// every one of its operations with this code and keeps none of their changes.
    /// </summary>
    StoreFailure,

    /// <summary>The node (or the entity, on hand-off) is shutting down and takes no new work (HTTP 503).</summary>
    ShuttingDown,

    /// <summary>A batch operation was refused by its resource's handler; the resource is left unchanged (HTTP 409).</summary>
    Rejected,

    /// <summary>
    /// A batch operation was not run: its caller cancelled it or its deadline passed before its turn came (the Go
    /// library's <c>OperationCancelled</c>) (HTTP 503).
    /// </summary>
    Cancelled,

    /// <summary>
    /// No outcome in time: a batch passed its <c>max-duration</c> before its save completed (every operation of the batch
    /// gets this code and none of their changes is kept), or no answer reached the caller in time (HTTP 503).
    /// </summary>
    Timeout,

    /// <summary>The resource does not exist (or was deleted): a refresh cache item asked for by id (HTTP 404).</summary>
    NotFound,
}

/// <summary>
/// Rules every resource key must follow.
/// </summary>
public static class KeyRules
{
    /// <summary>Longest key, in UTF-8 bytes: 256.</summary>
    public const int MaxKeyBytes = 256;

    /// <summary>
    /// Checks <paramref name="key"/> against the key rules.
    /// </summary>
    /// <param name="key">The key to check.</param>
    /// <param name="error">Why the key is invalid, or <c>null</c> when it is valid.</param>
    /// <returns><c>true</c> when the key is valid.</returns>
    public static bool TryValidate(string? key, out string? error)
    {
        if (string.IsNullOrEmpty(key))
        {
            error = "key must not be empty";
            return false;
        }

        // the control characters (char.IsControl) are U+0000-U+001F and U+007F-U+009F: one vectorized scan each, since
        // every operation's key passes here on its caller's thread
        var control = key.AsSpan().IndexOfAnyInRange('\u0000', '\u001F');
        if (control < 0)
            control = key.AsSpan().IndexOfAnyInRange('\u007F', '\u009F');
        if (control >= 0)
        {
            error = $"key must not contain control characters (found U+{(int)key[control]:X4})";
            return false;
        }

        // a UTF-16 unit is at most 3 UTF-8 bytes: a short key needs no count
        var bytes = key.Length <= MaxKeyBytes / 3 ? 0 : System.Text.Encoding.UTF8.GetByteCount(key);
        if (bytes > MaxKeyBytes)
        {
            error = $"key is {bytes} UTF-8 bytes; at most {MaxKeyBytes} are allowed";
            return false;
        }

        error = null;
        return true;
    }
}
