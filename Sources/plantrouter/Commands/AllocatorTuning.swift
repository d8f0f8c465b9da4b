#if canImport(Glibc)
import Glibc
import Foundation

/// glibc malloc settings for the long-running router, applied before its threads start.
///
/// glibc gives each thread that allocates an arena of its own, up to 8 per core, and an arena
/// keeps what it once held: with ~50 threads (librdkafka's per-client and per-broker threads,
/// the lanes, poll threads) that slack was tens of MB. Four arenas bound it. Measured on 1M-event
/// drains on tansu (Benchmarks/NOTES.md, 2026-12-05): peak RSS 214 → 194 MB with the smaller
/// prefetch, CPU per event unchanged. A fixed 256 KiB mmap threshold (keeping librdkafka's
/// multi-MB decompression buffers out of the arenas) saved ~2 MB more but cost ~4% CPU (the
/// kernel zeroes every fresh mapping), so glibc's dynamic threshold stays.
/// `MALLOC_ARENA_MAX` in the environment still wins.
enum AllocatorTuning {
    static let arenas: Int32 = 4
    // <malloc.h>'s parameter number; Swift's Glibc module does not export malloc.h.
    private static let arenaMaxParameter: Int32 = -8  // M_ARENA_MAX

    static func apply() {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        // Looked up at run time for the same reason; a C library without it is left alone.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(arenaMaxParameter, arenas)
    }
}
#else
enum AllocatorTuning {
    static func apply() {}
}
#endif
