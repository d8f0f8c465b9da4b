import ArgumentParser

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send dead letters or a source-topic range through again, safely; manage replay jobs.",
        discussion: """
            `plantrouter replay --from-dlq LANE …` (or `replay start`) creates a job and runs it. \
            Outputs keep their deterministic idempotency keys and keys the ledger shows produced are \
            skipped, so replaying an event that had succeeded sends nothing new. Jobs are recorded in \
            the ledger and resumable; Ctrl-C checkpoints within a second and exits 130. Exit codes: \
            0 completed, 2 completedWithDeadLetters, 130 interrupted, 1 failed or cancelled. \
            See Docs/Operations.md.
            """,
        subcommands: [
            ReplayStartCommand.self, ReplayListCommand.self, ReplayStatusCommand.self, ReplayCancelCommand.self,
            ReplayResumeCommand.self,
        ],
        defaultSubcommand: ReplayStartCommand.self
    )
}
