namespace Akka.WriteBehind;

/// <summary>
/// Rules for the optional request id a caller attaches to an increment or a batch operation so that a retry is applied once:
/// a repeat of an id within the feature's idempotency window is not applied again and is answered with the first answer.
/// </summary>
public static class RequestIds
{
    /// <summary>Longest request id, in characters: 128.</summary>
    public const int MaxLength = 128;

    /// <summary>
    /// Checks <paramref name="id"/>: 1 to <see cref="MaxLength"/> visible ASCII characters (<c>!</c> to <c>~</c>), so it fits
    /// an HTTP header and a database column unchanged.
    /// </summary>
    /// <param name="id">The request id to check.</param>
    /// <param name="error">Why the id is invalid, or <c>null</c> when it is valid.</param>
    /// <returns><c>true</c> when the id is valid.</returns>
    public static bool TryValidate(string? id, out string? error)
    {
        if (string.IsNullOrEmpty(id))
        {
            error = "a request id must not be empty";
            return false;
        }

        if (id.Length > MaxLength)
        {
            error = $"a request id is at most {MaxLength} characters; this one has {id.Length}";
            return false;
        }

        foreach (var c in id)
        {
            if (c is < '!' or > '~')
            {
                error = "a request id holds only visible ASCII characters (no spaces or control characters)";
                return false;
            }
        }

        error = null;
        return true;
    }
}
