using System.Globalization;

namespace TokenInjector.Configuration;

/// <summary>
/// What the sidecar, the webhook that injects it and the <c>injector token</c> command agree on, besides the
/// sidecar's options themselves (<see cref="SidecarSettings"/>): where the socket is in an injected pod, the admin
/// port, and the environment an app container gets.
/// </summary>
internal static class SidecarContract
{
    /// <summary>The directory the socket volume is mounted at, in the sidecar and in the app containers.</summary>
    public const string SocketDirectory = "/var/run/token-injector";

    public const string SocketPath = SocketDirectory + "/token.sock";

    /// <summary>The admin listener's port (<c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>).</summary>
    public const int AdminPort = 9464;

    /// <summary>The environment variable that tells an app container where its token files are.</summary>
    public static readonly string TokenDirEnvironmentVariable = SidecarSettings.Options.TokenDir.EnvironmentVariable;

    /// <summary>
    /// The environment variable that gives an app container the egress listener's URL (never <c>HTTP_PROXY</c> itself,
    /// which would send all of the app's plain HTTP there): the app points its proxy settings at it. The sidecar reads
    /// the same name as its port; the two never meet, each container having its own environment.
    /// </summary>
    public static readonly string EgressEnvironmentVariable = OptionSpec.EnvironmentPrefix + "EGRESS";

    /// <summary>
    /// The metadata endpoint's port when the <c>token-injector.dev/metadata</c> annotation says <c>true</c>: not 80, which
    /// a non-root sidecar cannot bind, and outside the ports apps and meshes commonly take (8080, 8443, 15000-15090, 9090).
    /// </summary>
    public const int DefaultMetadataPort = 8988;

    /// <summary>Where Google's client libraries (and Google.Apis.Auth in the sidecar) look for the metadata server: <c>host[:port]</c>.</summary>
    public const string MetadataHostEnvironmentVariable = "GCE_METADATA_HOST";

    /// <summary>
    /// What an app container with the metadata endpoint gets, each set to <c>127.0.0.1:PORT</c>: every variable by which
    /// one of Google's client libraries finds the metadata server. <c>GCE_METADATA_HOST</c>: Go's
    /// cloud.google.com/go/compute/metadata, Java's and .NET's libraries, Python's google-auth, Node's gcp-metadata;
    /// <c>GCE_METADATA_IP</c>: read before it by Node's gcp-metadata, and by Python's google-auth for its detection ping;
    /// <c>GCE_METADATA_ROOT</c>: the older name Python's google-auth and the C++ libraries still fall back to.
    /// </summary>
    public static readonly IReadOnlyList<string> MetadataEnvironmentVariables = [MetadataHostEnvironmentVariable, "GCE_METADATA_IP", "GCE_METADATA_ROOT"];

    /// <summary>The GKE metadata server's address, when <see cref="MetadataHostEnvironmentVariable"/> names none.</summary>
    public const string DefaultMetadataServer = "169.254.169.254";

    /// <summary>The environment variable that gives an app container a route's local URL.</summary>
    public static string RouteEnvironmentVariable(int port) =>
        OptionSpec.EnvironmentPrefix + "ROUTE_" + port.ToString(CultureInfo.InvariantCulture);
}
