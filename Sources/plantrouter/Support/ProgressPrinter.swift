import Foundation
import Replay
import Synchronization

/// Replay progress on standard error, on a clock of its own rather than the job's: on a
/// terminal a bar redrawn in place every 250 ms, otherwise a plain line every 2 s (logs and
/// CI stay readable). Rate and ETA are measured here over the whole run, so a job that
/// stalls (a low `--rate`, a slow broker) shows its rate falling instead of a frozen bar.
final class ProgressPrinter: Sendable {
    private struct State {
        var latest: ReplayProgressReport?
        var first: (read: Int64, at: ContinuousClock.Instant)?
        var drawn = false
    }

    private let isTerminal: Bool
    private let interval: Duration
    private let state = Mutex<State>(State())
    private let ticker = Mutex<Task<Void, Never>?>(nil)

    init(isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.isTerminal = isTerminal
        interval = isTerminal ? .milliseconds(250) : .seconds(2)
    }

    /// Starts redrawing every `interval` until `finish`.
    func start() {
        let interval = interval
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                self?.draw()
            }
        }
        ticker.withLock { $0 = task }
    }

    /// Keeps the job's latest report; the timer draws it.
    func update(_ report: ReplayProgressReport) {
        state.withLock { state in
            if state.first == nil { state.first = (report.read, .now) }
            state.latest = report
        }
    }

    /// Prints a report line on standard output without tearing the bar.
    func printAbove(_ line: String) {
        state.withLock { state in
            if state.drawn { Self.write("\r\u{1B}[2K"); state.drawn = false }
            print(line)
            fflush(nil)  // nil: every stream (Swift 6 refuses the global `stdout`)
        }
    }

    /// Stops the timer and leaves the final state on its own line.
    func finish() async {
        let task = ticker.withLock { $0 }
        task?.cancel()
        await task?.value
        draw()
        state.withLock { state in
            if state.drawn { Self.write("\n") }
            state.drawn = false
        }
    }

    private func draw() {
        state.withLock { state in
            guard var report = state.latest else { return }
            if let first = state.first {
                let elapsed = (ContinuousClock.now - first.at) / .seconds(1)
                if elapsed > 0.5 {
                    report.rate = Double(report.read - first.read) / elapsed
                    report.etaSeconds = report.rate > 0 ? Double(max(0, report.total - report.read)) / report.rate : nil
                }
            }
            if isTerminal {
                Self.write("\r\u{1B}[2K" + Self.describe(report, barWidth: 30))
                state.drawn = true
            } else {
                Self.write(Self.describe(report, barWidth: 0) + "\n")
            }
        }
    }

    static func describe(_ report: ReplayProgressReport, barWidth: Int) -> String {
        let fraction = report.total > 0 ? min(1, Double(report.read) / Double(report.total)) : 1
        let filled = Int(fraction * Double(barWidth))
        let bar = barWidth > 0
            ? "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: barWidth - filled) + "] "
            : ""
        let eta = report.etaSeconds.map { "ETA \(duration($0))" } ?? "ETA –"
        let counts = report.counts
        return "\(bar)\(report.read)/\(report.total) read (\(Int(fraction * 100))%)  sent \(counts.sent)  skipped \(counts.skippedAlreadyProduced)  re-dead-lettered \(counts.reDeadLettered)  quarantined \(counts.quarantined)  \(String(format: "%.1f", report.rate))/s  \(eta)"
    }

    /// `42s`, `3m20s`, `2h05m`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 360_000 else { return "∞" }
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m"
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
