using System.Security.Cryptography;
using System.Text;

namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// The instance's custom metadata (<c>/computeMetadata/v1/instance/attributes/</c>): values tests change at run time
/// (<see cref="Set"/>, or <c>POST /emulator/attributes</c>), so that a <c>wait_for_change=true</c> long poll has
/// something to wait for. Every change wakes every waiter; each works out whether its own answer changed (by ETag).
/// </summary>
internal sealed class InstanceAttributes
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, string> _values = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Sets (or with null removes) one attribute.</summary>
    public void Set(string name, string? value)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (value is null)
            {
                _values.Remove(name);
            }
            else
            {
                _values[name] = value;
            }

            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.SetResult();
    }

    /// <summary>The attributes now, and a task that completes at the next change.</summary>
    public (IReadOnlyDictionary<string, string> Values, Task NextChange) Snapshot()
    {
        lock (_gate)
        {
            return (new SortedDictionary<string, string>(_values, StringComparer.Ordinal), _changed.Task);
        }
    }

    /// <summary>The metadata server's ETag of an answer: a short hash of its body.</summary>
    public static string ETag(string body) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)).AsSpan(0, 8));
}
