import Foundation
import Replay
import Synchronization

/// Replay progress on standard error: a bar redrawn in place on a terminal, otherwise a
/// plain line at most every 2 seconds (logs and CI stay readable).
final class ProgressPrinter: Sendable {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let state = Mutex<(last: ContinuousClock.Instant?, drawn: Bool)>((nil, false))

    func update(_ report: ReplayProgressReport) {
        let line = Self.describe(report, barWidth: isTerminal ? 30 : 0)
        state.withLock { state in
            if isTerminal {
                Self.write("\r\u{1B}[2K" + line)
                state.drawn = true
            } else if state.last.map({ ContinuousClock.now - $0 >= .seconds(2) }) ?? true || report.read >= report.total {
                Self.write(line + "\n")
                state.last = .now
            }
        }
    }

    /// Prints a report line on standard output without tearing the bar.
    func printAbove(_ line: String) {
        state.withLock { state in
            if state.drawn { Self.write("\r\u{1B}[2K") ; state.drawn = false }
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }

    func finish() {
        state.withLock { state in
            if state.drawn { Self.write("\n") }
            state.drawn = false
        }
    }

    static func describe(_ report: ReplayProgressReport, barWidth: Int) -> String {
        let fraction = report.total > 0 ? min(1, Double(report.read) / Double(report.total)) : 1
        let bar = barWidth > 0
            ? "[" + String(repeating: "█", count: Int(fraction * Double(barWidth)))
                + String(repeating: "·", count: barWidth - Int(fraction * Double(barWidth))) + "] "
            : ""
        let eta = report.etaSeconds.map { String(format: "ETA %.0fs", $0) } ?? "ETA –"
        let counts = report.counts
        return "\(bar)\(report.read)/\(report.total) read (\(Int(fraction * 100))%)  selected \(counts.selected)  sent \(counts.sent)  skipped \(counts.skipped)  quarantined \(counts.quarantined)  \(String(format: "%.0f", report.rate))/s  \(eta)"
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
