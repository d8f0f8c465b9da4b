import ArgumentParser
import Foundation
import Ledger
import Replay

struct ReplayListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recorded replay jobs, newest first.")

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "At most this many jobs.")
    var limit = 50

    @Flag(help: "Print JSON Lines: one job per line (kind replayJob, the admin API's schema).")
    var json = false

    func run() async throws {
        LoggingSetup.bootstrap(level: .warning)
        let ledger = try ReplayTool.ledger(cluster, access: .readOnly)
        let jobs = try await ledger.jobs(limit: limit)
        if json {
            for job in jobs { try JSONLines.emit(ReplayJobView(job, progress: try await ledger.progress(jobID: job.id))) }
            return
        }
        print(Table(
            header: ["id", "state", "mode", "dry run", "source", "by", "created", "selected", "sent", "skipped (already produced)",
                     "re-dead-lettered", "quarantined", "refused", "filtered"],
            rows: jobs.map { job in
                let counts = job.counts
                return [job.id, job.state.rawValue, job.mode.rawValue, job.dryRun ? "yes" : "no", job.source.topic, job.requestedBy,
                        job.createdAt.formatted(.iso8601)]
                    + [counts.selected, counts.sent, counts.skippedAlreadyProduced, counts.reDeadLettered, counts.quarantined,
                       counts.refused, counts.filtered].map(String.init)
            }).rendered)
    }
}

struct ReplayStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "A job's state, options, counts and per-partition progress.")

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The job id (`plantrouter replay list`).")
    var id: String

    @Flag(help: "Print the job as one JSON line (kind replayJob, the admin API's schema).")
    var json = false

    func run() async throws {
        LoggingSetup.bootstrap(level: .warning)
        let ledger = try ReplayTool.ledger(cluster, access: .readOnly)
        guard let job = try await ledger.job(id: id) else {
            throw ValidationError("no replay job '\(id)' in \(ledger.path); `plantrouter replay list` shows the recorded jobs")
        }
        let progress = try await ledger.progress(jobID: id)
        let view = ReplayJobView(job, progress: progress)
        if json {
            try JSONLines.emit(view)
            return
        }
        print("job:        \(job.id)")
        print("state:      \(job.state.rawValue)\(job.lastError.map { " (\($0))" } ?? "")")
        print("requested:  by \(job.requestedBy) at \(job.createdAt.formatted(.iso8601)); updated \(job.updatedAt.formatted(.iso8601))")
        print("mode:       \(job.mode.rawValue)\(job.dryRun ? ", dry run" : "")\(job.rateLimit.map { ", at most \($0)/s" } ?? "")")
        print("source:     \(job.source.kind.rawValue) \(job.source.topic)")
        print("filters:    \(view.filter.described)\(view.maxReplays.map { "; max replays \($0)" } ?? "")")
        print("counts:     \(job.counts.summary)")
        if case .offsets(let planned) = job.source.range {
            let reached = Dictionary(progress.map { ($0.partition, $0.nextOffset) }) { $1 }
            print(Table(header: ["partition", "from", "until", "next"], rows: planned.map {
                [String($0.partition), String($0.from), $0.until.map(String.init) ?? "end", String(reached[$0.partition] ?? $0.from)]
            }).rendered)
        }
    }
}

struct ReplayCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job; a running one is `cancelling` until its runner stops (within a second), then `cancelled`.")

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The job id.")
    var id: String

    @Flag(help: "Print the job as one JSON line (kind replayJob).")
    var json = false

    func run() async throws {
        LoggingSetup.bootstrap(level: .warning)
        let ledger = try ReplayTool.ledger(cluster)
        let job = try await ReplayTool.rethrowingForUser { try await ReplayJobs.cancel(jobID: id, in: ledger) }
        if json {
            try JSONLines.emit(ReplayJobView(job, progress: try await ledger.progress(jobID: id)))
        } else {
            print("job \(job.id) \(job.state.rawValue)\(job.state == .cancelling ? ": its runner stops at its next checkpoint; `plantrouter replay status \(job.id)` shows when it is cancelled" : "")")
        }
    }
}

struct ReplayResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Continue a paused, failed or killed job from its last checkpoint.")

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The job id.")
    var id: String

    @Flag(help: "Print JSON Lines on standard output: dry-run events (kind replayEvent), then the job (kind replayJob).")
    var json = false

    func run() async throws {
        LoggingSetup.bootstrap(level: .warning)
        let jobs = try ReplayTool.jobs(cluster)
        _ = try await ReplayTool.rethrowingForUser { try await jobs.job(id: id) }
        try await ReplayTool.rethrowingForUser { try await ReplayTool.run(id, jobs: jobs, cluster: cluster, json: json) }
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

extension ReplayJobView.Filter {
    /// `reason=schema, type=quality.*`, or `none`.
    var described: String {
        let parts: [(String, String?)] = [
            ("since", since?.formatted(.iso8601)), ("until", until?.formatted(.iso8601)), ("reason", reason), ("type", type),
            ("source", source), ("key", key), ("correlation-id", correlationId), ("event-id", eventId),
        ]
        let given = parts.compactMap { name, value in value.map { "\(name)=\($0)" } }
        return given.isEmpty ? "none" : given.joined(separator: ", ")
    }
}
