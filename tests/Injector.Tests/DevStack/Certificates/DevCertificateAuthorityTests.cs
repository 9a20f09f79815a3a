using System.Security.Cryptography.X509Certificates;
using TokenInjector.DevStack.Certificates;

namespace TokenInjector.Tests.DevStack.Certificates;

public sealed class DevCertificateAuthorityTests
{
    [Fact]
    public void IssuedCertificate_ChainsToItsCa_AndToNoOther()
    {
        using var authority = DevCertificateAuthority.Create();
        using var other = DevCertificateAuthority.Create("another CA");

        using var certificate = authority.IssueServerCertificate("svc-abc123-uc.a.run.app", "127.0.0.1");

        Assert.True(authority.Validate(certificate));
        Assert.False(other.Validate(certificate));
        Assert.True(certificate.HasPrivateKey);
        Assert.True(certificate.MatchesHostname("svc-abc123-uc.a.run.app"));
        Assert.True(certificate.MatchesHostname("127.0.0.1"));
        Assert.False(certificate.MatchesHostname("other.a.run.app"));
    }

    [Fact]
    public void WritePem_CertificateAndKeyLoadBack_KeyOnlyForItsOwner()
    {
        using var directory = new TempDirectory();
        using var authority = DevCertificateAuthority.Create();
        using var certificate = authority.IssueServerCertificate("localhost");

        var (certificateFile, keyFile) = DevCertificateAuthority.WritePem(certificate, directory.Path, "server");
        var caFile = authority.WriteCaPem(directory.Path);

        using var loaded = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        Assert.Equal(certificate.Thumbprint, loaded.Thumbprint);
        Assert.True(loaded.HasPrivateKey);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        using var ca = X509CertificateLoader.LoadCertificateFromFile(caFile);
        Assert.Equal(authority.Certificate.Thumbprint, ca.Thumbprint);
    }
}
