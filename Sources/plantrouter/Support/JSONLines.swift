import Foundation
import Replay

/// `--json` output: JSON Lines on standard output, one object per line, encoded like the
/// admin API's bodies (`ReportJSON`). Diagnostics and progress go to standard error, so
/// `plantrouter … --json | jq` always parses.
enum JSONLines {
    static func emit(_ value: some Encodable) throws {
        print(try ReportJSON.line(value))
        fflush(nil)  // nil: every stream (Swift 6 refuses the global `stdout`)
    }

    static func emit(each values: some Sequence<some Encodable>) throws {
        for value in values { print(try ReportJSON.line(value)) }
        fflush(nil)  // nil: every stream (Swift 6 refuses the global `stdout`)
    }
}

/// A line for the operator on standard error (never mixed into `--json` output).
func printNotice(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
