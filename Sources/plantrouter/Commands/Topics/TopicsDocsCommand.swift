import ArgumentParser
import Foundation
import Policy

struct TopicsDocsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Write an AsyncAPI 3.0 document and a Markdown contract table from the catalog."
    )

    @Option(help: "Topics directory or policy file.")
    var topics = "Topics"

    @Option(help: "Output directory (created if missing).")
    var out = "docs/contracts"

    func run() async throws {
        let policy = try loadTopicsOrExit(topics)
        let directory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let asyncAPI = directory.appendingPathComponent("asyncapi.yaml")
        let markdown = directory.appendingPathComponent("CONTRACTS.md")
        try ContractDocs.asyncAPI(policy).write(to: asyncAPI, atomically: true, encoding: .utf8)
        try ContractDocs.markdown(policy).write(to: markdown, atomically: true, encoding: .utf8)
        print("wrote \(asyncAPI.path) and \(markdown.path)")
    }
}
