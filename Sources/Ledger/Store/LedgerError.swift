import GRDB

/// What went wrong in the ledger, always with the file it happened in.
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be created or opened for writing (missing folder, permissions).
    case cannotOpen(path: String, reason: String)
    /// The file exists but is not a SQLite database, or is damaged.
    case notALedger(path: String, reason: String)
    /// The file carries schema migrations this build does not know: a newer plantrouter wrote it.
    case newerSchema(path: String)
    /// Opened read-only, the file lacks migrations this build needs: an older plantrouter wrote it.
    case olderSchema(path: String)
    /// Opened read-only, there is no file at the path (read commands never create one).
    case missing(path: String)
    /// SQLite refused an operation.
    case sqlite(operation: String, path: String, code: Int32, message: String)
    /// No replay job has this id.
    case jobNotFound(id: String, path: String)
    /// The replay job's current state does not allow the requested one.
    case invalidJobTransition(id: String, from: ReplayJobState, to: ReplayJobState, path: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "Cannot open the ledger at \(path): \(reason). Check that its folder exists and that this "
                + "user may write there (SQLite keeps \(path)-wal and \(path)-shm beside the file)."
        case let .notALedger(path, reason):
            return "\(path) is not a usable PlantRouter ledger (SQLite: \(reason)). Move the file aside: "
                + "plantrouter creates a fresh ledger at that path on its next start."
        case let .newerSchema(path):
            return "The ledger at \(path) was written by a newer plantrouter (its schema has migrations this "
                + "build does not know). Run the newer version, or point --database at another file."
        case let .olderSchema(path):
            return "The ledger at \(path) was written by an older plantrouter; read commands never change the file. "
                + "Start `plantrouter run` with this version on it once to upgrade its schema."
        case let .missing(path):
            return "No ledger at \(path). `plantrouter run` and `plantrouter demo` write it; "
                + "pass --database PATH (or --config FILE, the router's) to read another file."
        case let .sqlite(operation, path, code, message):
            return "Ledger \(path): could not \(operation): SQLite error \(code): \(message)"
        case let .jobNotFound(id, path):
            return "No replay job with id \(id) in the ledger at \(path)."
        case let .invalidJobTransition(id, from, to, _):
            if to == .cancelled {
                return "Replay job \(id) is \(from.rawValue); only pending, running or paused jobs can be cancelled."
            }
            let allowed = from.allowedNextStates.map(\.rawValue).sorted()
            return "Replay job \(id) is \(from.rawValue) and cannot become \(to.rawValue)"
                + (allowed.isEmpty ? " (it is finished)." : " (allowed: \(allowed.joined(separator: ", "))).")
        }
    }

    /// Maps a failure while opening or migrating the file.
    static func opening(_ path: String, _ error: any Error) -> LedgerError {
        if let error = error as? LedgerError { return error }
        guard let error = error as? DatabaseError else {
            return .cannotOpen(path: path, reason: "\(error)")
        }
        let reason = error.message ?? "error \(error.resultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return .notALedger(path: path, reason: reason)
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH, .SQLITE_IOERR:
            return .cannotOpen(path: path, reason: reason)
        default:
            return .sqlite(operation: "open the ledger", path: path, code: error.resultCode.rawValue, message: reason)
        }
    }

    /// Maps a failure of one operation on an open ledger; ledger errors and cancellation pass through.
    static func failed(_ operation: String, path: String, _ error: any Error) -> any Error {
        if error is LedgerError || error is CancellationError { return error }
        guard let error = error as? DatabaseError else {
            return LedgerError.sqlite(operation: operation, path: path, code: -1, message: "\(error)")
        }
        if error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
            return LedgerError.notALedger(path: path, reason: error.message ?? "database disk image is malformed")
        }
        return LedgerError.sqlite(
            operation: operation, path: path, code: error.resultCode.rawValue,
            message: error.message ?? "error \(error.resultCode.rawValue)"
        )
    }
}
