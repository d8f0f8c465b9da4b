import ArgumentParser

struct DLQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect lanes' dead-letter topics.",
        discussion: """
            Reads a lane's dead-letter topic (every partition, from the start or --from to its end \
            as it is now) and filters by time, reason, event type, source, key or correlation id. \
            Times are the original events' timestamps, which dead letters keep.
            """,
        subcommands: [DLQListCommand.self, DLQShowCommand.self, DLQStatsCommand.self]
    )
}
