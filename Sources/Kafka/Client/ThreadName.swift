#if canImport(Glibc)
import Glibc
#endif

/// Names the calling OS thread, so `top -H`, `ps -T` and perf show `lane-telemetry`
/// rather than the dispatch worker it was started from (Foundation's
/// `Thread.name` does not reach the OS thread on Linux).
public enum ThreadName {
    public static func setCurrent(_ name: String) {
        #if os(Linux)
        // pthread_setname_np is hidden from Swift's Glibc module; /proc is the same call.
        let descriptor = open("/proc/thread-self/comm", O_WRONLY)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array(name.utf8.prefix(15))  // the kernel keeps 15 bytes
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        #endif
    }
}
