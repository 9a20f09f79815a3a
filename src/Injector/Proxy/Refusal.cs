namespace TokenInjector.Proxy;

/// <summary>
/// An answer the proxy gives itself instead of forwarding: the HTTP status, and a short message that says why and what
/// to do (the body of an HTTP answer, the <c>grpc-message</c> of a gRPC one). Never holds a token.
/// </summary>
internal sealed record Refusal(int StatusCode, string Message);
