using System.Buffers;

namespace TokenInjector.Hosting;

/// <summary>
/// Lets go of the buffers <see cref="ArrayPool{T}.Shared"/> keeps. The proxy copies every request and response body
/// through a 64 KB buffer rented there (YARP), and TLS rents its records' buffers there too. The pool keeps up to 32
/// of each size for each core, and gives them up only one at a time, a minute apart, on full collections an idle
/// sidecar does not have: after 32 concurrent calls they held about 3.5 MiB that a quiet pod went on paying for
/// (docs/MEMORY.md). Renting every one of them out and dropping it leaves them to the next collection; the next busy
/// spell rents afresh. The pool has no call that empties it, so a pooled buffer is told from a fresh one by its
/// generation: after a full collection every buffer the pool holds is older than generation 0, so the first buffer
/// of generation 0 a size hands out is new, and that size is empty. Only sizes below the large object heap's
/// threshold (85,000 bytes) are asked, since a fresh array above it is not in generation 0.
/// </summary>
internal static class PooledBuffers
{
    // The pool's size classes from a TLS record's to YARP's body copies; it rounds a request up to the next.
    private static readonly int[] Sizes = [4 * 1024, 8 * 1024, 16 * 1024, 32 * 1024, 64 * 1024];

    /// <summary>
    /// Rents out and drops every buffer the pool holds of <see cref="Sizes"/>; call it right after a full collection.
    /// Returns how many were pooled.
    /// </summary>
    public static int DropAfterFullCollection()
    {
        // Never more than the pool can hold (32 per core, and one per thread): a bound, should a fresh buffer ever
        // not show as one.
        var most = (32 * Environment.ProcessorCount) + 256;
        var dropped = 0;
        foreach (var size in Sizes)
        {
            for (var rented = 0; rented < most; rented++)
            {
                if (GC.GetGeneration(ArrayPool<byte>.Shared.Rent(size)) == 0)
                {
                    break;
                }

                dropped++;
            }
        }

        return dropped;
    }
}
