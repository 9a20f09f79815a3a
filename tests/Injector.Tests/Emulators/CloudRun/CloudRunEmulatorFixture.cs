using System.Net;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using TokenInjector.DevStack.Certificates;
using TokenInjector.Emulators.CloudRun;
using TokenInjector.Tests.Support;
using TokenInjector.Tests.Support.Grpc;

namespace TokenInjector.Tests.Emulators.CloudRun;

/// <summary>
/// What the Cloud Run emulator tests share: a test CA with a certificate for the service host, a token issuer and
/// an h2c upstream. Each test starts its own emulator (cheap), so counters start at zero.
/// </summary>
public sealed class CloudRunEmulatorFixture : IAsyncLifetime
{
    public const string ServiceHost = "hello-abc123-uc.a.run.app";
    public const string ServiceUrl = "https://" + ServiceHost;

    internal DevCertificateAuthority Authority { get; } = DevCertificateAuthority.Create();

    internal X509Certificate2 ServerCertificate { get; private set; } = null!;

    internal TestTokenIssuer Issuer { get; private set; } = null!;

    internal H2cTestUpstream Upstream { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ServerCertificate = Authority.IssueServerCertificate(ServiceHost);
        Issuer = await TestTokenIssuer.StartAsync();
        Upstream = await H2cTestUpstream.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Upstream.DisposeAsync();
        await Issuer.DisposeAsync();
        ServerCertificate.Dispose();
        Authority.Dispose();
    }

    internal async Task<CloudRunEmulator> StartEmulatorAsync(Action<CloudRunEmulatorOptions>? configure = null, TestTokenIssuer? issuer = null)
    {
        var options = new CloudRunEmulatorOptions
        {
            ServiceUrl = ServiceUrl,
            Upstream = Upstream.Uri,
            Certificate = ServerCertificate,
            JwksUri = (issuer ?? Issuer).JwksUri,
        };
        configure?.Invoke(options);
        return await CloudRunEmulator.StartAsync(options).WaitAsync(TestWait.Limit);
    }

    /// <summary>A gRPC channel to https://SERVICE-HOST:PORT that really connects to the emulator and trusts only the test CA.</summary>
    internal GrpcChannel CreateChannel(CloudRunEmulator emulator) =>
        GrpcChannel.ForAddress($"https://{ServiceHost}:{emulator.Port}", new GrpcChannelOptions
        {
            HttpHandler = Authority.CreateHttpHandler(new IPEndPoint(IPAddress.Loopback, emulator.Port)),
            DisposeHttpClient = true,
        });

    internal HttpClient CreateHttpClient(CloudRunEmulator emulator) =>
        new(Authority.CreateHttpHandler(new IPEndPoint(IPAddress.Loopback, emulator.Port)))
        {
            BaseAddress = new Uri($"https://{ServiceHost}:{emulator.Port}"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TestWait.Limit,
        };

    /// <summary>A request that insists on <paramref name="version"/> (HTTP/2 by default; a new message alone says 1.1).</summary>
    internal static HttpRequestMessage NewRequest(HttpMethod method, string path, Version? version = null) =>
        new(method, path) { Version = version ?? HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

    internal static TestEcho.TestEchoClient Client(GrpcChannel channel) => new(channel);

    internal static Grpc.Core.Metadata Bearer(string token, string header = "authorization") => new() { { header, "Bearer " + token } };

    /// <summary>The form in which the container must receive <paramref name="token"/>.</summary>
    internal static string Redacted(string token) =>
        token[..token.LastIndexOf('.')] + ".SIGNATURE_REMOVED_BY_GOOGLE";
}
