import ArgumentParser
import Foundation
import Ledger
import Replay

struct ReplayListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recorded replay jobs, newest first.")

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "At most this many jobs.")
    var limit = 50

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let jobs = try await ReplayTool.ledger(cluster, access: .readOnly).jobs(limit: limit)
        if json {
            print(try jsonText(jobs))
            return
        }
        print(Table(
            header: ["id", "state", "mode", "dry run", "source", "by", "created", "selected", "sent", "skipped", "quarantined"],
            rows: jobs.map { job in
                [job.id, job.state.rawValue, job.mode.rawValue, job.dryRun ? "yes" : "no", job.source.topic, job.requestedBy,
                 job.createdAt.formatted(.iso8601), String(job.counts.selected), String(job.counts.sent),
                 String(job.counts.skipped), String(job.counts.quarantined)]
            }).rendered)
    }
}

struct ReplayStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "A job's state, options, counts and per-partition progress.")

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The job id (`plantrouter replay list`).")
    var id: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let ledger = try ReplayTool.ledger(cluster, access: .readOnly)
        guard let job = try await ledger.job(id: id) else {
            throw ValidationError("no replay job '\(id)' in \(ledger.path); `plantrouter replay list` shows the recorded jobs")
        }
        let progress = try await ledger.progress(jobID: id)
        if json {
            struct Status: Encodable { var job: ReplayJob; var progress: [ReplayProgress] }
            print(try jsonText(Status(job: job, progress: progress)))
            return
        }
        print("job:        \(job.id)")
        print("state:      \(job.state.rawValue)\(job.lastError.map { " (\($0))" } ?? "")")
        print("requested:  by \(job.requestedBy) at \(job.createdAt.formatted(.iso8601)); updated \(job.updatedAt.formatted(.iso8601))")
        print("mode:       \(job.mode.rawValue)\(job.dryRun ? ", dry run" : "")\(job.rateLimit.map { ", at most \($0)/s" } ?? "")")
        print("source:     \(job.source.kind.rawValue) \(job.source.topic)")
        print("filters:    \(job.filters)")
        let counts = job.counts
        print("counts:     selected \(counts.selected), sent \(counts.sent), skipped \(counts.skipped), re-dead-lettered \(counts.failed), quarantined \(counts.quarantined)")
        if case .offsets(let planned) = job.source.range {
            let reached = Dictionary(progress.map { ($0.partition, $0.nextOffset) }) { $1 }
            print(Table(header: ["partition", "from", "until", "next"], rows: planned.map {
                [String($0.partition), String($0.from), $0.until.map(String.init) ?? "end", String(reached[$0.partition] ?? $0.from)]
            }).rendered)
        }
    }
}

struct ReplayCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a job; a running one stops at its next checkpoint.")

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The job id.")
    var id: String

    func run() async throws {
        let ledger = try ReplayTool.ledger(cluster)
        let job = try await ReplayTool.rethrowingForUser { try await ReplayJobs.cancel(jobID: id, in: ledger) }
        print("job \(job.id) \(job.state.rawValue)")
    }
}

struct ReplayResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Continue a paused, failed or killed job from its last checkpoint.")

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The job id.")
    var id: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let jobs = try ReplayTool.jobs(cluster)
        _ = try await ReplayTool.rethrowingForUser { try await jobs.job(id: id) }
        try await ReplayTool.rethrowingForUser { try await ReplayTool.run(id, jobs: jobs, json: json) }
    }
}

extension ReplayTool {
    /// Replay errors are the user's to fix: print them as such, without a stack of types.
    static func rethrowingForUser<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ReplayError {
            throw ValidationError(error.message)
        }
    }
}
