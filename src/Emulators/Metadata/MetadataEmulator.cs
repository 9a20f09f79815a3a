using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using TokenInjector.DevCommandLine;
using TokenInjector.Emulators.GoogleApis;
using TokenInjector.Emulators.Identity;

namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// A local GKE metadata server (Workload Identity flavour) on plain HTTP/1.1: point a client at it with
/// GCE_METADATA_HOST=<see cref="HostAndPort"/>. Its port, keys, cache and counters survive outages
/// (<see cref="StopListeningAsync"/> / <see cref="ResumeListeningAsync"/>), because each listening period is a
/// separate Kestrel instance bound to the same port while the state lives here.
/// </summary>
internal sealed class MetadataEmulator : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly MetadataEmulatorOptions _options;
    private readonly IPAddress _bindAddress;
    private readonly SigningKeyRing _keys = new();
    private readonly MetadataRequestHandler _handler;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly CancellationTokenSource _disposing = new();

    private WebApplication? _listener;
    private CancellationTokenSource? _listenerStopping;

    // Holds the port during a Refuse startup window: bound but not listening, so connections are refused.
    private Socket? _reservation;
    private bool _wantListening = true;
    private bool _disposed;
    private int _port;

    private MetadataEmulator(MetadataEmulatorOptions options, IPEndPoint endpoint)
    {
        _options = options;
        _bindAddress = endpoint.Address;
        _port = endpoint.Port;
        var faults = new MetadataFaults();
        var counter = new IdentityRequestCounter();
        var issuer = new IdentityTokenIssuer(
            new IdentityTokenOptions(options.ServiceAccount, options.TokenLifetime, options.GkeCache, options.GkeCacheWindow, options.Time), _keys, faults);
        var google = new GoogleTokenEndpoint(new GoogleApisOptions(options.ServiceAccount, [.. options.OtherServiceAccounts], options.Time), issuer, counter);
        var control = new EmulatorControlApi(faults, counter, _keys, google);
        _handler = new MetadataRequestHandler(options, _keys, issuer, control, google);
    }

    /// <summary>"127.0.0.1:41234": the value for GCE_METADATA_HOST; stable across outages.</summary>
    public string HostAndPort
    {
        get
        {
            // A wildcard bind is reachable on loopback; clients cannot dial 0.0.0.0 portably.
            var host = _bindAddress.Equals(IPAddress.Any) ? IPAddress.Loopback
                : _bindAddress.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
                : _bindAddress;
            var port = Volatile.Read(ref _port).ToString(CultureInfo.InvariantCulture);
            return host.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]:{port}" : $"{host}:{port}";
        }
    }

    /// <summary>http://HOST:PORT/</summary>
    public Uri BaseAddress => new($"http://{HostAndPort}/");

    /// <summary>The JWKS that verifies the emulator's tokens (Google's real one is https://www.googleapis.com/oauth2/v3/certs).</summary>
    public Uri JwksUri => new(BaseAddress, "oauth2/v3/certs");

    /// <summary>Faults to switch on and off at run time.</summary>
    public MetadataFaults Faults => _handler.Faults;

    /// <summary>
    /// Completes when the emulator first accepts connections: at once, or, with a Refuse startup window, when the
    /// window has passed on the options' clock (with a fake clock: after the test advances it).
    /// </summary>
    public Task WhenListening { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// A new service-account key file whose <c>token_uri</c> is this emulator's OAuth2 token endpoint: point
    /// <c>GOOGLE_APPLICATION_CREDENTIALS</c> at it (or at an impersonated_service_account file built on it).
    /// </summary>
    public string CreateServiceAccountKey() => _handler.Google.CreateServiceAccountKey(BaseAddress);

    /// <summary>The Security Token Service of <c>external_account</c> credentials: subject tokens it trusts, the exchanges it saw, IAM's binding.</summary>
    public SecurityTokenService Sts => _handler.Google.Sts;

    /// <summary>The <c>generateIdToken</c> calls IAM let through: caller, account, delegates, audience, includeEmail.</summary>
    public IReadOnlyList<GenerateIdTokenCall> GenerateIdTokenCalls => _handler.Google.GenerateIdTokenCalls;

    /// <summary>The federated principal of the Kubernetes service account <c>NAMESPACE/NAME</c>, as the access tokens of a pod without a Google service account carry it.</summary>
    public string FederatedPrincipal(string kubernetesServiceAccount) => _handler.FederatedPrincipal(kubernetesServiceAccount);

    /// <summary>ID token requests received for <paramref name="audience"/> (identity endpoint, OAuth2 token endpoint, generateIdToken), whatever their outcome (faults included).</summary>
    public int IdentityRequests(string audience) => _handler.Counter.For(audience);

    /// <summary>Identity requests received in all, whatever their outcome.</summary>
    public int TotalIdentityRequests => _handler.Counter.Total;

    /// <summary>Starts the emulator. Returns once <see cref="HostAndPort"/> is known, even during a Refuse startup window.</summary>
    /// <exception cref="ArgumentException">The options are invalid (all problems are listed).</exception>
    public static async Task<MetadataEmulator> StartAsync(MetadataEmulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid metadata emulator options: " + string.Join("; ", errors), nameof(options));
        }

        _ = ListenAddress.TryParse(options.ListenAddress, out var listen); // validated above
        var emulator = new MetadataEmulator(options, new IPEndPoint(listen!.Address, listen.Port));
        try
        {
            await emulator.StartCoreAsync(cancellationToken);
            return emulator;
        }
        catch
        {
            await emulator.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sets (or with null removes) an instance attribute (<c>/computeMetadata/v1/instance/attributes/NAME</c>), ending the long polls that wait for it to change.</summary>
    public void SetAttribute(string name, string? value) => _handler.Attributes.Set(name, value);

    /// <summary>Makes a new signing key; the old one stays in the JWKS unless <paramref name="keepPreviousInJwks"/> is false.</summary>
    public void RotateSigningKey(bool keepPreviousInJwks = true) => _keys.Rotate(keepPreviousInJwks);

    /// <summary>
    /// Outage: closes the listener so the port refuses connections; open connections are dropped and hung requests
    /// aborted. Keys, cache, counters and faults are kept.
    /// </summary>
    public async Task StopListeningAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _wantListening = false;
            await StopListenerAsync();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Ends an outage: listens again on the same port. (During a Refuse startup window it only re-arms the start.)</summary>
    public async Task ResumeListeningAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _wantListening = true;
            if (_listener is null && _reservation is null)
            {
                await StartListenerAsync(_port, _disposing.Token);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _disposing.CancelAsync();
            await StopListenerAsync();
            _reservation?.Dispose();
            _reservation = null;
            _keys.Dispose();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        if (_options.StartupFailure == StartupFailure.Refuse && _options.StartupWindow > TimeSpan.Zero)
        {
            _reservation = new Socket(_bindAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            _reservation.Bind(new IPEndPoint(_bindAddress, _port));
            _port = ((IPEndPoint)_reservation.LocalEndPoint!).Port;
            WhenListening = ListenAfterStartupWindowAsync();
            return;
        }

        await StartListenerAsync(_port, cancellationToken);
    }

    private async Task ListenAfterStartupWindowAsync()
    {
        await Task.Delay(_options.StartupWindow, _options.Time, _disposing.Token);
        await _lifecycle.WaitAsync(_disposing.Token);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // Closing the reservation and binding at once: the port is free only for that instant.
            _reservation?.Dispose();
            _reservation = null;
            if (_wantListening)
            {
                await StartListenerAsync(_port, _disposing.Token);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StartListenerAsync(int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(_bindAddress, port, listen => listen.Protocols = HttpProtocols.Http1);
        });

        var app = builder.Build();
        var stopping = new CancellationTokenSource();
        app.Run(context => _handler.HandleAsync(context, stopping.Token));
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            stopping.Dispose();
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("Kestrel did not report its addresses");
        var address = addresses.Addresses.First();
        Volatile.Write(ref _port, new Uri(address).Port);
        _listener = app;
        _listenerStopping = stopping;
    }

    private async Task StopListenerAsync()
    {
        if (_listener is not { } app)
        {
            return;
        }

        _listener = null;
        var stopping = _listenerStopping!;
        _listenerStopping = null;

        // Releases hung and delayed requests first, so Kestrel's graceful stop does not wait on them.
        await stopping.CancelAsync();
        using (var timeout = new CancellationTokenSource(StopTimeout))
        {
            await app.StopAsync(timeout.Token);
        }

        await app.DisposeAsync();
        stopping.Dispose();
    }
}
