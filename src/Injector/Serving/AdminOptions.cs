using System.Net;

namespace TokenInjector.Serving;

/// <summary>Where the admin listener (<c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>) listens.</summary>
internal sealed record AdminOptions(IPEndPoint Endpoint);
