import ArgumentParser
import Foundation
import Ledger

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Print the audit trail of an event or a work order.",
        discussion: """
            Looks ID up as an event id (ce_id) and as a correlation id (work order), and prints \
            every decision in order: event, rule, outcome, and each output's topic, partition, \
            offset and idempotency key. Decisions stream from the ledger's index as they are \
            read, so the first line appears at once and memory stays flat for trails of any \
            length. Plain analytics events (those correlated to no work order) are not audited.
            """
    )

    @Argument(help: "An event id or a work-order id.")
    var id: String

    @Option(help: "The ledger file that `plantrouter run` or `plantrouter demo` writes.")
    var database = "plantrouter.sqlite"

    @Flag(help: "Print JSON Lines: one decision per line, with its outputs.")
    var json = false

    @Option(help: "Only decisions recorded at or after this time: RFC 3339 (2026-03-01T08:00:00Z) or an age (90s, 30m, 1h, 2d).")
    var since: TraceTime?

    @Option(help: "Only decisions recorded before this time: RFC 3339 or an age (1h = an hour ago).")
    var until: TraceTime?

    @Option(help: "Only events of this CloudEvents type (a trailing * matches a prefix).")
    var type: String?

    @Option(help: "Only decisions with this outcome: workflow, analytics, drop, deadLetter.")
    var outcome: AuditOutcome?

    @Option(help: "At most this many decisions.")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let since, let until, since.date >= until.date {
            throw ValidationError("--since (\(TraceReport.timestamp(since.date))) must be before --until (\(TraceReport.timestamp(until.date)))")
        }
    }

    func run() throws {
        let path = URL(fileURLWithPath: database).standardizedFileURL.path
        let ledger: Ledger
        do {
            ledger = try Ledger(path: path, access: .readOnly)
        } catch let error as LedgerError {
            printError("\(error)")
            throw ExitCode(1)
        }
        let query = TraceCommand.query(id: id, since: since?.date, until: until?.date, type: type, outcome: outcome, limit: limit)
        var output = StandardOutput()
        var report = TraceReport(id: id, ledgerPath: path)
        if !json {
            output.write(report.heading(workOrder: try ledger.workOrder(id: id)))
        }
        try ledger.trail(query) { record, _ in
            output.write(json ? try report.jsonLine(record) : report.tableLines(record))
            return true
        }
        guard report.decisions > 0 else {
            output.flush()
            let filtered = since != nil || until != nil || type != nil || outcome != nil
            printError(filtered
                ? "No decision recorded for \(id) in \(path) matches the filters (--since, --until, --type, --outcome)."
                : """
                  Nothing recorded for \(id) in \(path): no audited event has that id, and none is \
                  correlated to a work order with that id.
                  """)
            throw ExitCode(1)
        }
        if !json { output.write(report.summary()) }
        output.flush()
    }

    static func query(id: String, since: Date?, until: Date?, type: String?, outcome: AuditOutcome?, limit: Int?) -> TrailQuery {
        TrailQuery(id: id, since: since, until: until, type: type, outcome: outcome, limit: limit)
    }

    private func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

/// `--since`/`--until`: an RFC 3339 time, or an age before now (`90s`, `30m`, `1h`, `2d`).
struct TraceTime: ExpressibleByArgument {
    var date: Date

    init?(argument: String) {
        if let date = try? Date(argument, strategy: .iso8601) {
            self.date = date
            return
        }
        if let date = try? Date(argument, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            self.date = date
            return
        }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let unit = argument.last.flatMap({ units[$0] }), let amount = Double(argument.dropLast()),
              amount.isFinite, amount >= 0, amount <= 36_500 * 86_400 / unit else { return nil }
        date = Date(timeIntervalSinceNow: -amount * unit)
    }

    static var defaultValueDescription: String { "RFC 3339 or an age like 1h" }
}

extension AuditOutcome: ExpressibleByArgument {}

/// Stdout written in large blocks, flushed after the first line so it shows at once.
struct StandardOutput {
    private var buffer: [UInt8] = []
    private var flushedOnce = false

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if !flushedOnce || buffer.count >= 64 * 1024 {
            flush()
            flushedOnce = true
        }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
