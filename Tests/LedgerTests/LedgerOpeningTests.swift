import Foundation
import GRDB
import Testing
@testable import Ledger

@Suite struct LedgerOpeningTests {
    @Test func freshFileGetsEveryMigrationAndReopeningKeepsData() throws {
        let folder = try TestFolder()
        do {
            let ledger = try folder.openLedger()
            #expect(try ledger.appliedMigrations() == ["v1-audit", "v1-correlation", "v1-idempotency", "v1-replay", "v2-replay-vocabulary", "v2-drop-dry-run-audit", "v3-audit-index"])
            try ledger.append([record("evt-1", offset: 7, at: 0)])
        }
        let reopened = try folder.openLedger()
        #expect(try reopened.appliedMigrations().count == 7)
        #expect(try reopened.trail(for: "evt-1").map(\.sourceOffset) == [7])
        #expect(reopened.path == folder.ledgerPath)
    }

    @Test func aFileThatIsNotSQLiteIsReportedWithItsPath() throws {
        let folder = try TestFolder()
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: folder.ledgerPath))
        let error = #expect(throws: LedgerError.self) { try folder.openLedger() }
        guard case let .notALedger(path, _) = error else {
            Issue.record("expected notALedger, got \(String(describing: error))")
            return
        }
        #expect(path == folder.ledgerPath)
        #expect(error?.description.contains("Move the file aside") == true)
    }

    @Test func anotherApplicationsDatabaseIsLeftUntouched() throws {
        let folder = try TestFolder()
        try DatabaseQueue(path: folder.ledgerPath).write { db in
            try db.execute(sql: "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        }
        let error = #expect(throws: LedgerError.self) { try folder.openLedger() }
        #expect(error == .notALedger(path: folder.ledgerPath, reason: "it holds other tables and no ledger schema"))
        let tables = try DatabaseQueue(path: folder.ledgerPath).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        #expect(tables == ["invoices"])
    }

    @Test func aMissingFolderIsReportedWithItsPath() throws {
        let folder = try TestFolder()
        let path = folder.url.appendingPathComponent("no/such/folder/plantrouter.sqlite").path
        let error = #expect(throws: LedgerError.self) { try Ledger(path: path) }
        guard case .cannotOpen(path, _) = error else {
            Issue.record("expected cannotOpen(\(path)), got \(String(describing: error))")
            return
        }
    }

    @Test func aFileFromANewerReleaseIsRefused() throws {
        let folder = try TestFolder()
        _ = try folder.openLedger()
        try DatabaseQueue(path: folder.ledgerPath).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')")
        }
        #expect(throws: LedgerError.newerSchema(path: folder.ledgerPath)) { try folder.openLedger() }
    }

    @Test func temporaryLedgersAreIndependentFiles() throws {
        let first = try Ledger.temporary()
        let second = try Ledger.temporary()
        defer {
            for ledger in [first, second] {
                try? FileManager.default.removeItem(at: URL(fileURLWithPath: ledger.path).deletingLastPathComponent())
            }
        }
        #expect(first.path != second.path)
        try first.append([record("evt-1", offset: 1, at: 0)])
        #expect(try second.trail(for: "evt-1").isEmpty)
    }
}
