using Akka.WriteBehind.Sql;

namespace Akka.WriteBehind.Refresh;

/// <summary>The table names of refresh caches: each cache on a database keeps its items in its own table.</summary>
public static class RefreshTables
{
    /// <summary>The table of the default refresh cache (<c>type-name = write-behind-refresh</c>).</summary>
    public const string DefaultTableName = "refresh_items";

    /// <summary>The default refresh cache's type name, whose items stay in <see cref="DefaultTableName"/>.</summary>
    public const string DefaultTypeName = "write-behind-refresh";

    /// <summary>
    /// The table of the refresh cache <paramref name="typeName"/>: <see cref="DefaultTableName"/> for the default cache, else
    /// <c>refresh_items_</c> followed by the type name in lowercase with every character other than a letter or digit turned
    /// into <c>_</c> (cut to 63 characters).
    /// </summary>
    /// <param name="typeName">The cache's shard region type name.</param>
    public static string DerivedFrom(string typeName) =>
        typeName == DefaultTypeName ? DefaultTableName : SqlTableNames.Derive(DefaultTableName, typeName);

    internal static string Validate(string tableName, string parameterName) =>
        SqlTableNames.Validate(tableName, "refresh item", parameterName);
}
