namespace TokenInjector.Serving;

/// <summary>Where the token API listens: a Unix socket file, and the file mode it gets.</summary>
internal sealed record TokenApiOptions(string SocketPath, UnixFileMode SocketMode);
