using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TokenInjector.Emulators.Plumbing;

/// <summary>Writing a whole answer at once, as every emulated service does: a status, a content type and a body.</summary>
internal static class HttpAnswers
{
    public static Task WriteAsync(HttpContext context, int status, string contentType, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        return context.Response.WriteAsync(body);
    }

    /// <summary>200 with <paramref name="value"/> as <c>application/json</c>, by a source-generated serializer.</summary>
    public static Task WriteJsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, value, typeInfo, context.RequestAborted);
    }
}
