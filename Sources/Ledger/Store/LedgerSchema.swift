import GRDB

/// The ledger's tables, as versioned migrations. A migration, once released, is never edited:
/// schema changes are new migrations appended at the end.
enum LedgerSchema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()

        // One row per routed event that is not plain analytics, plus its outputs. Outputs are
        // written with the decision; their partition/offset arrive with the delivery report.
        migrator.registerMigration("v1-audit") { db in
            try db.execute(sql: """
                CREATE TABLE audit_event (
                    id               INTEGER PRIMARY KEY,
                    event_id         TEXT    NOT NULL,
                    lane             TEXT    NOT NULL,
                    source_topic     TEXT    NOT NULL,
                    source_partition INTEGER NOT NULL,
                    source_offset    INTEGER NOT NULL,
                    event_type       TEXT    NOT NULL,
                    event_source     TEXT    NOT NULL,
                    correlation_id   TEXT,
                    rule_id          TEXT,
                    policy_version   TEXT    NOT NULL,
                    outcome          TEXT    NOT NULL
                        CHECK (outcome IN ('workflow', 'analytics', 'drop', 'deadLetter')),
                    reason           TEXT,
                    recorded_at      DATETIME NOT NULL
                );
                CREATE INDEX audit_event_by_event_id
                    ON audit_event (event_id, recorded_at, source_offset);
                CREATE INDEX audit_event_by_correlation_id
                    ON audit_event (correlation_id, recorded_at, source_offset)
                    WHERE correlation_id IS NOT NULL;
                CREATE INDEX audit_event_by_recorded_at ON audit_event (recorded_at);

                CREATE TABLE audit_output (
                    audit_id         INTEGER NOT NULL REFERENCES audit_event (id) ON DELETE CASCADE,
                    ordinal          INTEGER NOT NULL,
                    target_topic     TEXT    NOT NULL,
                    target_partition INTEGER,
                    target_offset    INTEGER,
                    idempotency_key  TEXT    NOT NULL,
                    PRIMARY KEY (audit_id, ordinal)
                ) WITHOUT ROWID;
                -- Delivery reports find their output by key; only undelivered rows are indexed.
                CREATE INDEX audit_output_pending
                    ON audit_output (idempotency_key) WHERE target_offset IS NULL;
                """)
        }

        // Current state of the compacted MES work-order topic, and how far it has been applied.
        migrator.registerMigration("v1-correlation") { db in
            try db.execute(sql: """
                CREATE TABLE work_order (
                    id               TEXT    PRIMARY KEY,
                    asset            TEXT    NOT NULL,
                    line             TEXT    NOT NULL,
                    status           TEXT    NOT NULL,
                    payload          TEXT    NOT NULL
                        CONSTRAINT work_order_payload_is_json CHECK (json_valid(payload)),
                    source_partition INTEGER NOT NULL,
                    source_offset    INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX work_order_by_asset ON work_order (asset);

                CREATE TABLE correlation_position (
                    source_topic     TEXT    NOT NULL,
                    source_partition INTEGER NOT NULL,
                    next_offset      INTEGER NOT NULL,
                    PRIMARY KEY (source_topic, source_partition)
                ) WITHOUT ROWID;
                """)
        }

        // Every output the producer confirmed, by its deterministic idempotency key.
        migrator.registerMigration("v1-idempotency") { db in
            try db.execute(sql: """
                CREATE TABLE produced_output (
                    idempotency_key  TEXT    PRIMARY KEY,
                    target_topic     TEXT    NOT NULL,
                    target_partition INTEGER NOT NULL,
                    target_offset    INTEGER NOT NULL,
                    produced_at      DATETIME NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX produced_output_by_produced_at ON produced_output (produced_at);
                """)
        }

        // Replay jobs and, per source partition, the next offset a resumed job starts from.
        migrator.registerMigration("v1-replay") { db in
            try db.execute(sql: """
                CREATE TABLE replay_job (
                    id           TEXT    PRIMARY KEY,
                    requested_by TEXT    NOT NULL,
                    created_at   DATETIME NOT NULL,
                    updated_at   DATETIME NOT NULL,
                    mode         TEXT    NOT NULL CHECK (mode IN ('reroute', 'redrive')),
                    source       TEXT    NOT NULL
                        CONSTRAINT replay_job_source_is_json CHECK (json_valid(source)),
                    filters      TEXT    NOT NULL
                        CONSTRAINT replay_job_filters_is_json CHECK (json_valid(filters)),
                    dry_run      BOOLEAN NOT NULL,
                    rate_limit   DOUBLE,
                    state        TEXT    NOT NULL CHECK (state IN
                        ('pending', 'running', 'paused', 'completed', 'cancelled', 'failed')),
                    selected     INTEGER NOT NULL DEFAULT 0,
                    sent         INTEGER NOT NULL DEFAULT 0,
                    skipped      INTEGER NOT NULL DEFAULT 0,
                    quarantined  INTEGER NOT NULL DEFAULT 0,
                    failed       INTEGER NOT NULL DEFAULT 0,
                    last_error   TEXT
                );
                CREATE INDEX replay_job_by_created_at ON replay_job (created_at);

                CREATE TABLE replay_progress (
                    job_id           TEXT    NOT NULL REFERENCES replay_job (id) ON DELETE CASCADE,
                    source_topic     TEXT    NOT NULL,
                    source_partition INTEGER NOT NULL,
                    next_offset      INTEGER NOT NULL,
                    PRIMARY KEY (job_id, source_topic, source_partition)
                ) WITHOUT ROWID;
                """)
        }

        // Issue 16: replay counts with one vocabulary (skipped → skipped_already_produced,
        // failed → re_dead_lettered, plus refused and filtered), the states `cancelling` (asked
        // to stop, runner not yet stopped) and `completedWithDeadLetters`, and per replayed
        // event its outcome, so a dead letter a later replay delivered shows as resolved.
        // SQLite cannot change a CHECK in place: the table is rebuilt (GRDB runs migrations
        // with foreign keys off, so replay_progress keeps its rows).
        migrator.registerMigration("v2-replay-vocabulary") { db in
            try db.execute(sql: """
                CREATE TABLE replay_job_v2 (
                    id           TEXT    PRIMARY KEY,
                    requested_by TEXT    NOT NULL,
                    created_at   DATETIME NOT NULL,
                    updated_at   DATETIME NOT NULL,
                    mode         TEXT    NOT NULL CHECK (mode IN ('reroute', 'redrive')),
                    source       TEXT    NOT NULL
                        CONSTRAINT replay_job_source_is_json CHECK (json_valid(source)),
                    filters      TEXT    NOT NULL
                        CONSTRAINT replay_job_filters_is_json CHECK (json_valid(filters)),
                    dry_run      BOOLEAN NOT NULL,
                    rate_limit   DOUBLE,
                    state        TEXT    NOT NULL CHECK (state IN
                        ('pending', 'running', 'paused', 'cancelling', 'completed', 'completedWithDeadLetters',
                         'cancelled', 'failed')),
                    selected                 INTEGER NOT NULL DEFAULT 0,
                    filtered                 INTEGER NOT NULL DEFAULT 0,
                    sent                     INTEGER NOT NULL DEFAULT 0,
                    skipped_already_produced INTEGER NOT NULL DEFAULT 0,
                    re_dead_lettered         INTEGER NOT NULL DEFAULT 0,
                    quarantined              INTEGER NOT NULL DEFAULT 0,
                    refused                  INTEGER NOT NULL DEFAULT 0,
                    last_error   TEXT
                );
                INSERT INTO replay_job_v2 (id, requested_by, created_at, updated_at, mode, source, filters, dry_run,
                    rate_limit, state, selected, sent, skipped_already_produced, re_dead_lettered, quarantined, last_error)
                SELECT id, requested_by, created_at, updated_at, mode, source, filters, dry_run,
                    rate_limit, state, selected, sent, skipped, failed, quarantined, last_error
                FROM replay_job;
                DROP TABLE replay_job;
                ALTER TABLE replay_job_v2 RENAME TO replay_job;
                CREATE INDEX replay_job_by_created_at ON replay_job (created_at);

                CREATE TABLE replay_event (
                    source_topic     TEXT    NOT NULL,
                    source_partition INTEGER NOT NULL,
                    source_offset    INTEGER NOT NULL,
                    job_id           TEXT    NOT NULL REFERENCES replay_job (id) ON DELETE CASCADE,
                    outcome          TEXT    NOT NULL CHECK (outcome IN
                        ('sent', 'skippedAlreadyProduced', 'reDeadLettered', 'quarantined', 'refused')),
                    replayed_at      DATETIME NOT NULL,
                    PRIMARY KEY (source_topic, source_partition, source_offset, job_id)
                ) WITHOUT ROWID;
                """)
        }

        // Issue 16: dry runs used to append their would-be decisions to the trail (later
        // filled in with a real output's position). They were never decisions: remove them.
        // A replay's audit reason ends with "replay job <id>".
        migrator.registerMigration("v2-drop-dry-run-audit") { db in
            // Foreign keys are off during migrations: the outputs go first, explicitly.
            try db.execute(sql: """
                CREATE TEMP TABLE dry_run_audit AS
                    SELECT e.id FROM audit_event e JOIN replay_job j ON j.dry_run
                    WHERE e.reason = 'replay job ' || j.id OR e.reason LIKE '%; replay job ' || j.id;
                DELETE FROM audit_output WHERE audit_id IN (SELECT id FROM dry_run_audit);
                DELETE FROM audit_event WHERE id IN (SELECT id FROM dry_run_audit);
                DROP TABLE dry_run_audit;
                """)
        }

        // Issue 17: the audit topic is the trail's source of truth and this file an index of it.
        // A decision carries a cluster-wide id, so reading back one's own records adds nothing;
        // the index remembers how far it has read each audit partition.
        migrator.registerMigration("v3-audit-index") { db in
            try db.execute(sql: """
                ALTER TABLE audit_event ADD COLUMN record_id TEXT;
                CREATE UNIQUE INDEX audit_event_by_record_id ON audit_event (record_id) WHERE record_id IS NOT NULL;

                CREATE TABLE audit_index_position (
                    source_topic     TEXT    NOT NULL,
                    source_partition INTEGER NOT NULL,
                    next_offset      INTEGER NOT NULL,
                    PRIMARY KEY (source_topic, source_partition)
                ) WITHOUT ROWID;
                """)
        }

        return migrator
    }()
}
