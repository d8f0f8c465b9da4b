import ArgumentParser

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create and verify the catalog's topics on a cluster; document the catalog for downstream teams.",
        subcommands: [TopicsVerifyCommand.self, TopicsApplyCommand.self, TopicsDocsCommand.self]
    )
}
