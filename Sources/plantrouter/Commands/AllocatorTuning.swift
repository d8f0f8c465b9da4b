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
///
/// An arena also keeps the pages of chunks freed in its middle: glibc returns memory on its own
/// only from the top of a heap. A thread gives them back every `trimInterval` (`malloc_trim`):
/// on 1M-event drains on tansu that took the peak from 192–212 to 166–169 MB, with the same CPU
/// per event and drain time (Benchmarks/NOTES.md, 2026-12-07).
enum AllocatorTuning {
    static let arenas: Int32 = 4
    static let trimInterval: TimeInterval = 0.25
    // <malloc.h>'s parameter number; Swift's Glibc module does not export malloc.h.
    private static let arenaMaxParameter: Int32 = -8  // M_ARENA_MAX

    static func apply() {
        startTrimming()
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        // Looked up at run time for the same reason; a C library without it is left alone.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(arenaMaxParameter, arenas)
    }

    /// Calls `malloc_trim(0)` every `trimInterval` on a thread of its own, for the life of the process.
    private static func startTrimming() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        typealias MallocTrim = @convention(c) (Int) -> Int32
        let trim = unsafeBitCast(symbol, to: MallocTrim.self)
        let thread = Thread {
            while true {
                Thread.sleep(forTimeInterval: trimInterval)
                _ = trim(0)
            }
        }
        thread.name = "malloc-trim"
        thread.start()
    }
}
#else
enum AllocatorTuning {
    static func apply() {}
}
#endif
