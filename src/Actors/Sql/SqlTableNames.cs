using System.Text.RegularExpressions;

namespace Akka.WriteBehind.Sql;

/// <summary>
/// INTERNAL API
/// <para>
/// Table names the library's stores put into SQL unquoted, one per set of a feature: lowercase only (PostgreSQL folds
/// unquoted names to lowercase) and within PostgreSQL's 63 bytes.
/// </para>
/// </summary>
internal static class SqlTableNames
{
    private const int MaxLength = 63;

    private static readonly Regex Identifier = new("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant);

    public static bool IsValid(string? name) => name is not null && Identifier.IsMatch(name);

    /// <summary><paramref name="prefix"/>, <c>_</c> and <paramref name="typeName"/> in lowercase with every character other
    /// than a letter or digit turned into <c>_</c>, cut to 63 characters.</summary>
    public static string Derive(string prefix, string typeName)
    {
        var chars = typeName.ToLowerInvariant().Select(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c : '_').ToArray();
        var name = prefix + "_" + new string(chars);
        return name.Length > MaxLength ? name[..MaxLength] : name;
    }

    public static string Validate(string tableName, string what, string parameterName) => IsValid(tableName)
        ? tableName
        : throw new ArgumentException(
            $"\"{tableName}\" is not a {what} table name: a lowercase letter or underscore, "
            + "then lowercase letters, digits or underscores, at most 63.",
            parameterName);
}
