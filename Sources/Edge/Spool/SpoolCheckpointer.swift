import Foundation
import GRDBSQLite
import Kafka
import Synchronization

/// Checkpoints the spool's WAL into the database file from a thread and a connection of its
/// own, so neither the HTTP appends nor the forwarder's rounds copy pages back on commit.
///
/// Why: with SQLite's automatic checkpoint (every 1,000 WAL pages, in whichever commit crosses
/// it) the forwarder's rounds spent about a third of their time checkpointing and the drain ran
/// at 0.50x the produce loop; with the checkpoint off their thread, 0.72x (plantrouter-bench
/// edge, release, tansu, one run each). A PASSIVE checkpoint never blocks the writer or the
/// readers; once every frame is copied, the next commit starts the WAL from the beginning again,
/// so it stays bounded by what accumulates between two passes.
final class SpoolCheckpointer: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)
    /// Between two passes.
    static let intervalSeconds = 0.1

    init(path: String) {
        let thread = Thread { [self] in
            ThreadName.setCurrent("edge-checkpoint")
            var connection: OpaquePointer?
            if sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let connection {
                sqlite3_busy_timeout(connection, 50)
                while !self.stopping.load(ordering: .relaxed) {
                    Thread.sleep(forTimeInterval: Self.intervalSeconds)
                    _ = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                }
            }
            sqlite3_close_v2(connection)
            self.finished.withLock { $0 = true }
        }
        thread.start()
    }

    /// Stops the thread and closes its connection (waits at most a second).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + .seconds(1)
        while !finished.withLock({ $0 }), ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.005) }
    }
}
