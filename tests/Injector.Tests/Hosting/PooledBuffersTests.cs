using System.Buffers;
using System.Runtime.CompilerServices;
using TokenInjector.Hosting;

namespace TokenInjector.Tests.Hosting;

public sealed class PooledBuffersTests
{
    // As many 64 KB buffers as 32 concurrent proxied calls leave in the pool, each copying its request and response.
    private const int Pooled = 64;

    // Other tests running at the same time rent from the same pool, and may hold one of these for a moment.
    private const int HeldElsewhere = 8;

    [Fact]
    public void TheBuffersThePoolHeld_AreCollectedAfterTheDrop()
    {
        var buffers = PoolSomeBuffers();
        GC.Collect();

        Assert.True(PooledBuffers.DropAfterFullCollection() >= Pooled - HeldElsewhere);
        GC.Collect();

        Assert.InRange(buffers.Count(buffer => buffer.IsAlive), 0, HeldElsewhere);
    }

    // Rented together, as concurrent calls rent them, then returned; the references go with this frame.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] PoolSomeBuffers()
    {
        var rented = Enumerable.Range(0, Pooled).Select(_ => ArrayPool<byte>.Shared.Rent(64 * 1024)).ToList();
        foreach (var buffer in rented)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return [.. rented.Select(buffer => new WeakReference(buffer))];
    }
}
