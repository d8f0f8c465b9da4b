#if canImport(Glibc)
import Glibc
import Foundation

/// glibc malloc settings for the long-running router, applied before its threads start.
///
/// librdkafka decompresses each fetched batch into a buffer of up to a few MB, held until every
/// record of the batch is consumed. glibc serves such sizes with mmap at first, but raises its
/// mmap threshold to the largest size freed (up to 32 MB), after which they come from the
/// arenas, and each of the ~50 threads' arenas keeps what it once held. A fixed threshold keeps
/// large buffers in mmap (returned to the system on free), and four arenas instead of 16 (8 per
/// core) bound what freed memory the arenas keep. Measured on a 1M-event drain on tansu
/// (Benchmarks/NOTES.md, 2026-12-05): peak RSS 237 → 195 MB, CPU per event unchanged.
/// `MALLOC_MMAP_THRESHOLD_` and `MALLOC_ARENA_MAX` in the environment still win.
enum AllocatorTuning {
    static let mmapThresholdBytes: Int32 = 256 * 1024
    static let arenas: Int32 = 4
    // <malloc.h>'s parameter numbers; Swift's Glibc module does not export malloc.h.
    private static let mmapThresholdParameter: Int32 = -3  // M_MMAP_THRESHOLD
    private static let arenaMaxParameter: Int32 = -8  // M_ARENA_MAX

    static func apply() {
        // Looked up at run time for the same reason; a C library without it is left alone.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let environment = ProcessInfo.processInfo.environment
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil { _ = mallopt(mmapThresholdParameter, mmapThresholdBytes) }
        if environment["MALLOC_ARENA_MAX"] == nil { _ = mallopt(arenaMaxParameter, arenas) }
    }
}
#else
enum AllocatorTuning {
    static func apply() {}
}
#endif
