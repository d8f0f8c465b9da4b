import ArgumentParser

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Document the topic catalog for downstream teams.",
        subcommands: [TopicsDocsCommand.self]
    )
}
