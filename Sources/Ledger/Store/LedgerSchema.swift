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

        return migrator
    }()
}
