import ArgumentParser
import Kafka
import Routing

struct TopicsApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create the catalog's missing topics with its partitions, replication, cleanup.policy and retention.ms.",
        discussion: """
            Existing topics are never changed: drift is reported with the command that fixes it \
            (more partitions re-key records; retention is the cluster owner's call). \
            --dry-run shows the plan and changes nothing. Exit status: 0 every topic in sync \
            afterwards (with --dry-run: nothing to do), 2 drift remains (with --dry-run: \
            something to create or drifted), 1 a topic could not be created or the cluster not read.
            """
    )

    @OptionGroup var options: TopicsClusterOptions

    @Flag(help: "Show what would be created; change nothing.")
    var dryRun = false

    func run() async throws {
        let (before, provisioner) = try await readChecks(options)
        let missing = before.filter { $0.status == .missing }
        if dryRun || missing.isEmpty {
            let lines = before.map { TopicLine($0, action: $0.status == .missing ? "create" : "none") }
            report(lines, checks: before)
            if before.contains(where: { $0.status != .inSync }) { throw ExitCode(TopicsExit.driftOrMissing) }
            return
        }
        let failures: [String: KafkaError]
        do {
            failures = try await provisioner.create(missing.map(\.expected), timeout: .seconds(options.timeout))
        } catch {
            var stderr = StandardError()
            print("creating \(missing.count) topics failed: \(error)", to: &stderr)
            throw ExitCode(TopicsExit.error)
        }
        // Report the cluster as it is now, not as we asked it to be.
        let after: [TopicCheck]
        do {
            after = try await provisioner.check(before.map(\.expected), timeout: .seconds(options.timeout), configsTimeout: .seconds(options.timeout))
        } catch {
            var stderr = StandardError()
            print("created topics, but reading them back failed: \(error)", to: &stderr)
            throw ExitCode(TopicsExit.error)
        }
        let missingNames = Set(missing.map(\.topic))
        let lines = after.map { check in
            if let failure = failures[check.topic] { return TopicLine(check, action: "failed", error: "\(failure)") }
            return TopicLine(check, action: missingNames.contains(check.topic) ? "created" : "none")
        }
        report(lines, checks: after)
        if !failures.isEmpty || after.contains(where: { $0.status == .missing }) { throw ExitCode(TopicsExit.error) }
        if after.contains(where: { $0.status == .drift }) { throw ExitCode(TopicsExit.driftOrMissing) }
    }

    private func report(_ lines: [TopicLine], checks: [TopicCheck]) {
        if options.json {
            do { try TopicsOutput.printJSONLines(lines) } catch { print("{\"error\":\"cannot encode output\"}") }
        } else {
            TopicsOutput.printTable(lines, showAction: true)
        }
        TopicsOutput.summary(checks, reuse: options.reuse, toStandardError: options.json)
        if dryRun {
            var stderr = StandardError()
            print("dry run: nothing was changed", to: &stderr)
        }
    }
}
