import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The Prometheus client libraries' standard process metrics (`process_cpu_seconds_total`,
/// `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_open_fds`,
/// `process_max_fds`, `process_start_time_seconds`), read from /proc at scrape time.
/// Neither swift-prometheus nor swift-metrics ships them on this machine (swift-metrics-extras'
/// SystemMetrics is not available here), hence this short reader. Empty off Linux.
enum ProcessMetrics {
    static func exposition() -> String {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return "" }
        // Fields after "(comm)": state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double? { number - 3 < fields.count ? Double(fields[number - 3]) : nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ value: Double?) {
            guard let value, value.isFinite else { return }
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)", "\(name) \(value)"]
        }
        if ticks > 0 {
            metric("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
                   field(14).flatMap { user in field(15).map { (user + $0) / ticks } })
        }
        metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", field(24).map { $0 * page })
        metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23))
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            metric("process_open_fds", "gauge", "Number of open file descriptors.", Double(descriptors.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
        if ticks > 0, let bootTime = Self.bootTime, let started = field(22) {
            metric("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", bootTime + started / ticks)
        }
        return lines.joined(separator: "\n") + "\n"
        #else
        return ""
        #endif
    }

    /// `btime` of /proc/stat: when the machine booted, in seconds since the epoch.
    private static let bootTime: Double? = {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return stat.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
    }()
}
