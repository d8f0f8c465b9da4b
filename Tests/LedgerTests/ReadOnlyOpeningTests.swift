import Foundation
import GRDB
import Testing
@testable import Ledger

/// Read commands (`trace`, `replay list|status`) open the ledger read-only: they never create,
/// migrate or write a file, and they say what is wrong instead.
@Suite struct ReadOnlyOpeningTests {
    @Test func aMissingFileIsReportedAndNotCreated() throws {
        let folder = try TestFolder()
        let error = #expect(throws: LedgerError.self) { try Ledger(path: folder.ledgerPath, access: .readOnly) }
        #expect(error == .missing(path: folder.ledgerPath))
        #expect(!FileManager.default.fileExists(atPath: folder.ledgerPath))
        #expect(!FileManager.default.fileExists(atPath: folder.ledgerPath + "-wal"))
    }

    @Test func anOlderSchemaIsReportedAndNotMigrated() throws {
        let folder = try TestFolder()
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-audit") { db in try db.execute(sql: "CREATE TABLE audit_event (id INTEGER PRIMARY KEY)") }
        try migrator.migrate(DatabaseQueue(path: folder.ledgerPath))
        let error = #expect(throws: LedgerError.self) { try Ledger(path: folder.ledgerPath, access: .readOnly) }
        #expect(error == .olderSchema(path: folder.ledgerPath))
        let applied = try DatabaseQueue(path: folder.ledgerPath).read { db in try migrator.appliedMigrations(db) }
        #expect(applied == ["v1-audit"], "a read command must not migrate the file")
    }

    @Test func aCurrentLedgerReadsButRefusesWrites() throws {
        let folder = try TestFolder()
        try folder.openLedger().append([record("evt-ro", offset: 3, at: 0)])
        let reader = try Ledger(path: folder.ledgerPath, access: .readOnly)
        #expect(try reader.trail(for: "evt-ro").map(\.sourceOffset) == [3])
        #expect(throws: LedgerError.self) { try reader.append([record("evt-ro-2", offset: 4, at: 1)]) }
    }
}
