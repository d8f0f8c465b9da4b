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
            offset and idempotency key. Plain analytics events are not audited.
            """
    )

    @Argument(help: "An event id or a work-order id.")
    var id: String

    @Option(help: "The ledger file that `plantrouter run` or `plantrouter demo` writes.")
    var database = "plantrouter.sqlite"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let path = URL(fileURLWithPath: database).standardizedFileURL.path
        let ledger: Ledger
        do {
            ledger = try Ledger(path: path, access: .readOnly)
        } catch let error as LedgerError {
            printError("\(error)")
            throw ExitCode(1)
        }
        let trail = try ledger.trail(for: id)
        guard !trail.isEmpty else {
            printError("""
                Nothing recorded for \(id) in \(path): no audited event has that id, and none is \
                correlated to a work order with that id.
                """)
            throw ExitCode(1)
        }
        let report = TraceReport(id: id, ledgerPath: path, workOrder: try ledger.workOrder(id: id), trail: trail)
        print(json ? try report.json() : report.table())
    }

    private func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
