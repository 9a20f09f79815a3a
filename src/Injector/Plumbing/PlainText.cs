namespace TokenInjector.Plumbing;

/// <summary>The answer every listener gives when it says why in words: a status and one line of UTF-8 text.</summary>
internal static class PlainText
{
    public static Task WriteAsync(HttpResponse response, int status, string message, CancellationToken cancellationToken = default)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(message + "\n", cancellationToken);
    }
}
