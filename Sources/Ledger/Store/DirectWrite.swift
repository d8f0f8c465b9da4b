import Foundation
import GRDB
import GRDBSQLite

/// Runs one of GRDB's cached statements with its parameters bound through the SQLite C API
/// (`Statement.sqliteStatement`, which GRDB exposes for this), for the few inserts and updates
/// the audit indexer makes per entry.
///
/// Written by hand because GRDB's `StatementArguments` boxes every argument as an existential
/// and converts it to a `DatabaseValue` before binding: that was ~3.7 µs per execution of the
/// produced-output insert, more than SQLite's own work for it (`plantrouter-bench audit-index`,
/// Benchmarks/NOTES.md). Everything else in the ledger goes through GRDB.
///
/// No transaction observer or `ValueObservation` watches the ledger; GRDB's bookkeeping for them
/// is what executing outside its API skips.
struct DirectWrite {
    private let statement: Statement
    private let db: Database

    init(_ db: Database, sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
    }

    /// Binds what `bind` adds, in parameter order, runs the statement to its end and clears it.
    func execute(_ bind: (inout Parameters) -> Void) throws {
        let pointer = statement.sqliteStatement
        var parameters = Parameters(statement: pointer)
        bind(&parameters)
        // A value SQLite refused to bind (a text over its length limit) fails the write before it runs.
        let code = parameters.failure == SQLITE_OK ? sqlite3_step(pointer) : parameters.failure
        let message = code == SQLITE_DONE ? nil : String(cString: sqlite3_errmsg(db.sqliteConnection))
        sqlite3_reset(pointer)
        sqlite3_clear_bindings(pointer)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }

    /// The statement's parameters, bound one after the other from the first.
    struct Parameters {
        fileprivate let statement: OpaquePointer
        private var index: Int32 = 1
        /// The first bind SQLite refused, or `SQLITE_OK`.
        fileprivate private(set) var failure = SQLITE_OK

        fileprivate init(statement: OpaquePointer) { self.statement = statement }

        mutating func add(_ text: String) {
            var text = text
            let code = text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { characters in
                    // A null pointer would bind NULL, not the empty string.
                    guard let start = characters.baseAddress else {
                        return sqlite3_bind_text64(statement, index, "", 0, Self.transient, UInt8(SQLITE_UTF8))
                    }
                    // SQLite copies the bytes (SQLITE_TRANSIENT): they outlive this closure. A 64-bit
                    // length, so no conversion can trap; SQLite refuses what exceeds its limit.
                    return sqlite3_bind_text64(
                        statement, index, start, sqlite3_uint64(characters.count), Self.transient, UInt8(SQLITE_UTF8))
                }
            }
            advance(code)
        }

        mutating func add(_ text: String?) {
            if let text { add(text) } else { addNull() }
        }

        mutating func add(_ integer: Int64) {
            advance(sqlite3_bind_int64(statement, index, integer))
        }

        mutating func add(_ integer: Int64?) {
            if let integer { add(integer) } else { addNull() }
        }

        /// A time as the ledger stores it (`StoredTime`).
        mutating func add(_ date: Date) {
            add(StoredTime.string(date))
        }

        private mutating func addNull() {
            advance(sqlite3_bind_null(statement, index))
        }

        private mutating func advance(_ code: Int32) {
            if failure == SQLITE_OK, code != SQLITE_OK { failure = code }
            index += 1
        }

        /// `SQLITE_TRANSIENT`, a C macro Swift does not import.
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    }
}
