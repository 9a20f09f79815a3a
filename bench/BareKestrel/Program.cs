using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// bare-kestrel --socket PATH --port PORT: one endpoint (GET any path: a fixed body the size of an ID token) on a Unix
// socket and on 127.0.0.1:PORT, HTTP/1.1, no logging. The benchmark's baseline for memory, start time and req/s.
if (args is not ["--socket", var socketPath, "--port", var portText] || !int.TryParse(portText, out var port))
{
    Console.Error.WriteLine("usage: bare-kestrel --socket PATH --port PORT");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http1);
    kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http1);
});

// A Google ID token is 800 to 1000 bytes: answer with as many, written the way the token API writes its token.
var body = new string('t', 900);
var app = builder.Build();
app.Run(context =>
{
    context.Response.ContentType = "text/plain; charset=utf-8";
    return context.Response.WriteAsync(body);
});
await app.RunAsync();
return 0;
