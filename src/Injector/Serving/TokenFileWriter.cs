using System.Text;
using TokenInjector.Tokens;

namespace TokenInjector.Serving;

/// <summary>
/// Writes each configured audience's token to a file of its own in the token directory, replacing it atomically
/// (write a temporary file, then rename) on every renewal so that a reader never sees half a token.
/// The file name is the audience without its <c>https://</c> and with every character other than letters, digits,
/// '.', '-' and '_' replaced by '_' (<c>https://svc-abc.a.run.app</c> → <c>svc-abc.a.run.app</c>).
/// </summary>
internal sealed class TokenFileWriter(string directory, ILogger<TokenFileWriter> logger) : ITokenObserver
{
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

    public static string FileName(string audience)
    {
        var name = audience.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? audience[8..] : audience;
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }

        return builder.ToString().TrimEnd('_');
    }

    public void OnTokenRenewed(string audience, IdToken token)
    {
        var path = Path.Combine(directory, FileName(audience));
        var temporary = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            Directory.CreateDirectory(directory);
            using (var file = new FileStream(temporary, new FileStreamOptions
            {
                Mode = System.IO.FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = FileMode,
            }))
            {
                file.Write(Encoding.ASCII.GetBytes(token.Value));
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.TokenFileWriteFailed(path, ex.Message);
            File.Delete(temporary);
        }
    }
}
