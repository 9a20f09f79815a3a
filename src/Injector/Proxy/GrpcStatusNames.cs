namespace TokenInjector.Proxy;

/// <summary>gRPC status codes by number, for metric labels and the errors the proxy writes itself.</summary>
internal static class GrpcStatusNames
{
    public const int InvalidArgument = 3;
    public const int PermissionDenied = 7;
    public const int Unavailable = 14;

    private static readonly string[] Names =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    public static string? Name(string? code) =>
        int.TryParse(code, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
        && number < Names.Length ? Names[number] : null;

    /// <summary>The status a gRPC call gets for an answer the proxy writes itself with this HTTP status.</summary>
    public static int ForHttpStatus(int httpStatus) => httpStatus switch
    {
        StatusCodes.Status403Forbidden => PermissionDenied,
        >= 400 and < 500 => InvalidArgument,
        _ => Unavailable,
    };
}
