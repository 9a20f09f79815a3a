using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Webhook;

/// <summary>
/// The serving certificate, read from PEM files and read again when they change, so that a rotated Secret
/// (cert-manager, or the chart on upgrade) is served without a restart. The files are compared by content at
/// most once per <c>interval</c>, on the TLS handshake path: this works for Kubernetes' Secret volumes, which swap
/// a symlink rather than write the files (file watchers miss that). A half-written pair is ignored and the last good
/// certificate stays in use until both files agree. What it reads goes to <see cref="ServingCertificate"/>.
/// </summary>
internal sealed class ReloadingCertificate
{
    private readonly string _certFile;
    private readonly string _keyFile;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ServingCertificate _serving;
    private readonly Lock _gate = new();
    private byte[] _certBytes;
    private byte[] _keyBytes;
    private long _lastCheck;

    public ReloadingCertificate(string certFile, string keyFile, TimeSpan interval, ServingCertificate serving, TimeProvider time, ILogger logger)
    {
        _serving = serving;
        _certFile = certFile;
        _keyFile = keyFile;
        _interval = interval;
        _time = time;
        _logger = logger;
        _certBytes = File.ReadAllBytes(certFile);
        _keyBytes = File.ReadAllBytes(keyFile);
        serving.Serve(Load(_certBytes, _keyBytes));
        _lastCheck = time.GetTimestamp();
    }

    /// <summary>The certificate to serve now, reloaded first when the files changed.</summary>
    public X509Certificate2 Current
    {
        get
        {
            lock (_gate)
            {
                if (_time.GetElapsedTime(_lastCheck) >= _interval)
                {
                    _lastCheck = _time.GetTimestamp();
                    Refresh();
                }

                return _serving.Current;
            }
        }
    }

    private static X509Certificate2 Load(byte[] cert, byte[] key) =>
        ServingCertificate.Load(new PemPair(System.Text.Encoding.ASCII.GetString(cert), System.Text.Encoding.ASCII.GetString(key)));

    private void Refresh()
    {
        byte[] cert;
        byte[] key;
        try
        {
            cert = File.ReadAllBytes(_certFile);
            key = File.ReadAllBytes(_keyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.CertificateReloadFailed(_certFile, ex.Message);
            return;
        }

        if (cert.AsSpan().SequenceEqual(_certBytes) && key.AsSpan().SequenceEqual(_keyBytes))
        {
            return;
        }

        try
        {
            var loaded = Load(cert, key);
            _certBytes = cert;
            _keyBytes = key;
            _serving.Serve(loaded);
        }
        catch (CryptographicException ex)
        {
            // Most likely the pair is being replaced and only one file is new yet: keep serving the old one.
            _logger.CertificateReloadFailed(_certFile, ex.Message);
        }
    }
}
