import Foundation
import GRDB

/// The SQLite state one PlantRouter instance must remember: the audit trail, the
/// correlation table, the idempotency ledger and replay jobs (see DESIGN.md, "State: SQLite").
///
/// Everything here is an index over Kafka data and can be rebuilt from the topics, so the
/// file trades power-loss durability of the last commits for throughput (WAL,
/// `synchronous = NORMAL`): a killed process loses nothing that was committed.
///
/// Concurrency: `Ledger` is a `Sendable` final class over a GRDB `DatabasePool`. Writes are
/// serialized on the pool's single writer connection; reads run in parallel on reader
/// connections and never block writes (WAL). Each operation comes in two forms:
/// - synchronous (`throws`): for lane threads, which own their thread and may block on
///   SQLite for the length of one transaction;
/// - `async throws` (same name): for async code (admin API, replay jobs); it suspends while
///   GRDB runs the transaction on its own queue, so the cooperative pool is never blocked.
public final class Ledger: Sendable {
    /// Absolute path of the SQLite file.
    public let path: String
    private let pool: DatabasePool

    /// How long a writer waits for another process (say `plantrouter trace` beside a
    /// running router) to release the file before failing with `SQLITE_BUSY`.
    public static let busyTimeout: TimeInterval = 5

    /// How a command uses the file.
    public enum Access: Sendable {
        /// The router and replay jobs: creates the file if needed and brings its schema up to date.
        case readWrite
        /// Read commands (`trace`, `replay list|status`): the file must exist with the current
        /// schema; it is never created, migrated or written.
        case readOnly
    }

    /// Opens the ledger at `path` for `access`.
    public init(path: String, access: Access = .readWrite) throws {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        self.path = absolute

        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        if access == .readOnly {
            guard FileManager.default.fileExists(atPath: absolute) else { throw LedgerError.missing(path: absolute) }
            configuration.readonly = true
        } else {
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
        }

        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: absolute, configuration: configuration)
        } catch {
            throw LedgerError.opening(absolute, error)
        }
        self.pool = pool

        do {
            try pool.read { db in
                // Never add our tables to someone else's database given by mistake.
                let tables = try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                    """) ?? 0
                if tables > 0, try !db.tableExists("grdb_migrations") {
                    throw LedgerError.notALedger(path: absolute, reason: "it holds other tables and no ledger schema")
                }
                if try LedgerSchema.migrator.hasBeenSuperseded(db) {
                    throw LedgerError.newerSchema(path: absolute)
                }
                if access == .readOnly, try !LedgerSchema.migrator.hasCompletedMigrations(db) {
                    throw tables == 0
                        ? LedgerError.notALedger(path: absolute, reason: "it is empty")
                        : LedgerError.olderSchema(path: absolute)
                }
            }
            if access == .readWrite { try LedgerSchema.migrator.migrate(pool) }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.opening(absolute, error)
        }
    }

    /// Opens a new, empty ledger in a fresh folder under the system's temporary directory.
    /// The caller owns the folder (`URL(fileURLWithPath: ledger.path).deletingLastPathComponent()`).
    public static func temporary() throws -> Ledger {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("plantrouter-ledger-\(UUID().uuidString)", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw LedgerError.opening(folder.path, error)
        }
        return try Ledger(path: folder.appendingPathComponent("ledger.sqlite").path)
    }

    /// Identifiers of the schema migrations applied to this file, in order.
    public func appliedMigrations() throws -> [String] {
        try read("read the applied migrations") { db in
            try LedgerSchema.migrator.appliedMigrations(db)
        }
    }

    // MARK: - Transactions with errors that name the operation and the file

    func read<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw LedgerError.failed(operation(), path: path, error)
        }
    }

    func write<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch {
            throw LedgerError.failed(operation(), path: path, error)
        }
    }

    func read<T: Sendable>(
        _ operation: String, _ body: @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw LedgerError.failed(operation, path: path, error)
        }
    }

    func write<T: Sendable>(
        _ operation: String, _ body: @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw LedgerError.failed(operation, path: path, error)
        }
    }
}
