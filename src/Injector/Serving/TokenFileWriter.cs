using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TokenInjector.Tokens;

namespace TokenInjector.Serving;

/// <summary>
/// Writes each configured audience's token to a file of its own in the token directory, replacing it atomically
/// (write a temporary file, then rename) on every renewal so that a reader never sees half a token. Beside the tokens,
/// <see cref="IndexFileName"/> maps each configured audience to its file, written once, with the first token.
/// </summary>
/// <remarks>
/// The naming rule (<see cref="FileName"/>) keeps the common name readable and never gives two audiences one file:
/// a plain <c>https://HOST</c> audience (letters, digits, dots and dashes, starting with a letter or digit) is written
/// to a file named HOST; any other audience to its readable part (other characters as '_', at most 80 of them), then
/// '_' and the first 16 hex digits of the SHA-256 of the audience. Plain names hold no '_' and hashed names always do,
/// so the two kinds never meet, and two hashed names meet only if SHA-256 does.
/// </remarks>
internal sealed class TokenFileWriter(string directory, IReadOnlyList<string> audiences, ILogger<TokenFileWriter> logger) : ITokenObserver
{
    /// <summary>The index: a JSON object whose keys are the configured audiences and whose values are their file names.</summary>
    public const string IndexFileName = "_index.json";

    private const int ReadablePartLength = 80;
    private const string PlainPrefix = "https://";
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
    private static readonly SearchValues<char> PlainHostCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");

    private int _indexWritten;

    public static string FileName(string audience)
    {
        var rest = audience.StartsWith(PlainPrefix, StringComparison.Ordinal) ? audience[PlainPrefix.Length..] : null;
        if (rest is { Length: > 0 } host && char.IsAsciiLetterOrDigit(host[0]) && !host.AsSpan().ContainsAnyExcept(PlainHostCharacters)
            && host.Length <= ReadablePartLength)
        {
            return host;
        }

        var readable = new StringBuilder(ReadablePartLength + 17);
        foreach (var c in (rest ?? audience).AsSpan(0, Math.Min((rest ?? audience).Length, ReadablePartLength)))
        {
            readable.Append(PlainHostCharacters.Contains(c) ? c : '_');
        }

        // A leading dot would hide the file, and "." or ".." name directories.
        if (readable.Length > 0 && readable[0] == '.')
        {
            readable[0] = '_';
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(audience));
        return readable.Append('_').Append(Convert.ToHexStringLower(hash, 0, 8)).ToString();
    }

    public void OnTokenRenewed(string audience, IdToken token)
    {
        if (Interlocked.Exchange(ref _indexWritten, 1) == 0)
        {
            WriteAtomically(IndexFileName, Index());
        }

        WriteAtomically(FileName(audience), Encoding.ASCII.GetBytes(token.Value));
    }

    private byte[] Index()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            foreach (var audience in audiences)
            {
                json.WriteString(audience, FileName(audience));
            }

            json.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private void WriteAtomically(string fileName, byte[] content)
    {
        var path = Path.Combine(directory, fileName);
        var temporary = Path.Combine(directory, "." + fileName + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
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
                file.Write(content);
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
