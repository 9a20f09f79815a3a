namespace TokenInjector.SampleWorkload.Server;

/// <summary><c>GET /whoami</c>: the caller's email and audience as JSON, for curl-style checks of a route.</summary>
internal static class WhoAmIEndpoint
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/whoami", (HttpRequest request) =>
        {
            var caller = CallerIdentityReader.Read(name => RequestHeaderSummary.Lookup(request, name));
            return TypedResults.Ok(new WhoAmIResponse(caller.Email, caller.Audience));
        });
    }
}

/// <summary>The JSON body of <c>/whoami</c>; empty strings when the request carried no Bearer token.</summary>
internal sealed record WhoAmIResponse(string Email, string Audience);
