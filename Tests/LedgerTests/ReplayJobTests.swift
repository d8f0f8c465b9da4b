import Foundation
import Testing
@testable import Ledger

@Suite struct ReplayJobTests {
    let request = ReplayJobRequest(
        requestedBy: "sre@plant-7",
        source: ReplaySource(kind: .deadLetter, topic: "dlq.production", range: .time(from: instant(0), until: nil)),
        filters: #"{"reason":"schema"}"#,
        rateLimit: 200
    )

    @Test func aKilledJobResumesFromItsLastCheckpoint() throws {
        let folder = try TestFolder()
        let jobID: String
        do {
            let ledger = try folder.openLedger()
            let job = try ledger.createJob(request)
            jobID = job.id
            #expect(job.state == .pending)
            #expect(job.counts == .zero)
            try ledger.setState(jobID: jobID, to: .running)
            try ledger.updateProgress(
                jobID: jobID, topic: "dlq.production", partition: 0, nextOffset: 100,
                counts: ReplayCounts(selected: 100, sent: 90, skippedAlreadyProduced: 10),
                produced: [ProducedOutput(idempotencyKey: "evt-1/rule/erp", topic: "erp", partition: 0, offset: 5)]
            )
            try ledger.updateProgress(
                jobID: jobID, topic: "dlq.production", partition: 1, nextOffset: 40,
                counts: ReplayCounts(selected: 40, sent: 39, quarantined: 1)
            )
            try ledger.updateProgress(
                jobID: jobID, topic: "dlq.production", partition: 0, nextOffset: 150,
                counts: ReplayCounts(selected: 50, sent: 50)
            )
            // The process dies here: nothing is closed or flushed.
        }
        let ledger = try folder.openLedger()
        let job = try #require(try ledger.job(id: jobID))
        #expect(job.state == .running)
        #expect(job.counts == ReplayCounts(selected: 190, sent: 179, skippedAlreadyProduced: 10, quarantined: 1))
        #expect(job.source == request.source)
        #expect(job.filters == request.filters)
        #expect(job.rateLimit == 200)
        #expect(job.requestedBy == "sre@plant-7")
        #expect(try ledger.progress(jobID: jobID) == [
            ReplayProgress(topic: "dlq.production", partition: 0, nextOffset: 150),
            ReplayProgress(topic: "dlq.production", partition: 1, nextOffset: 40),
        ])
        #expect(try ledger.wasProduced("evt-1/rule/erp"))

        // The restarted runner reclaims the job and finishes it.
        try ledger.setState(jobID: jobID, to: .running)
        let done = try ledger.setState(jobID: jobID, to: .completed)
        #expect(done.state == .completed)
        #expect(done.updatedAt >= job.updatedAt)
    }

    @Test func onlyPendingRunningOrPausedJobsCanBeCancelled() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        for path in [[], [ReplayJobState.running], [.running, .paused]] {
            let job = try ledger.createJob(request)
            for state in path { try ledger.setState(jobID: job.id, to: state) }
            // A running job is only asked to stop: cancelling until its runner has stopped.
            if path.last == .running {
                #expect(try ledger.cancel(jobID: job.id).state == .cancelling)
                #expect(try ledger.setState(jobID: job.id, to: .cancelled).state == .cancelled)
            } else {
                #expect(try ledger.cancel(jobID: job.id).state == .cancelled)
            }
        }
        // A second cancel ends a job whose runner died while cancelling.
        let orphan = try ledger.createJob(request)
        try ledger.setState(jobID: orphan.id, to: .running)
        #expect(try ledger.cancel(jobID: orphan.id).state == .cancelling)
        #expect(try ledger.cancel(jobID: orphan.id).state == .cancelled)
        for final in [ReplayJobState.completed, .failed, .cancelled] {
            let job = try ledger.createJob(request)
            try ledger.setState(jobID: job.id, to: .running)
            try ledger.setState(jobID: job.id, to: final, error: final == .failed ? "broker unreachable" : nil)
            let error = #expect(throws: LedgerError.self) { try ledger.cancel(jobID: job.id) }
            #expect(error == .invalidJobTransition(id: job.id, from: final, to: .cancelled, path: ledger.path))
            #expect(error?.description.contains("only pending, running or paused jobs can be cancelled") == true)
        }
        #expect(throws: LedgerError.jobNotFound(id: "nope", path: ledger.path)) { try ledger.cancel(jobID: "nope") }
    }

    @Test func failedJobsKeepTheirErrorAndCanBeRetried() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        let job = try ledger.createJob(request)
        try ledger.setState(jobID: job.id, to: .running)
        #expect(try ledger.setState(jobID: job.id, to: .failed, error: "target topic missing").lastError
            == "target topic missing")
        let retried = try ledger.setState(jobID: job.id, to: .running)
        #expect(retried.state == .running)
        #expect(retried.lastError == "target topic missing")
        try ledger.setState(jobID: job.id, to: .completed)
        #expect(throws: LedgerError.self) { try ledger.setState(jobID: job.id, to: .running) }
    }

    @Test func aCheckpointOfAnUnknownJobWritesNothing() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        #expect(throws: LedgerError.jobNotFound(id: "ghost", path: ledger.path)) {
            try ledger.updateProgress(
                jobID: "ghost", topic: "dlq.quality", partition: 0, nextOffset: 1, counts: ReplayCounts(sent: 1),
                produced: [ProducedOutput(idempotencyKey: "k", topic: "qms", partition: 0, offset: 1)]
            )
        }
        #expect(try !ledger.wasProduced("k"))
        #expect(try ledger.progress(jobID: "ghost").isEmpty)
    }

    @Test func checkpointsReportCancellationToTheRunner() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        let job = try ledger.createJob(request)
        try ledger.setState(jobID: job.id, to: .running)
        try ledger.cancel(jobID: job.id)
        let after = try ledger.updateProgress(
            jobID: job.id, topic: "dlq.production", partition: 0, nextOffset: 10, counts: ReplayCounts(sent: 10)
        )
        #expect(after.state == .cancelling)
        #expect(after.counts.sent == 10)
    }

    @Test func filtersMustBeJSON() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        var bad = request
        bad.filters = "reason=schema"
        let error = #expect(throws: LedgerError.self) { try ledger.createJob(bad) }
        #expect(error?.description.contains("replay_job_filters_is_json") == true)
        #expect(try ledger.jobs().isEmpty)
    }

    @Test func jobsAreListedNewestFirstThroughTheAsyncAPI() async throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        var ids: [String] = []
        for index in 0..<3 {
            var next = request
            next.mode = index == 1 ? .redrive : .reroute
            next.source = ReplaySource(kind: .sourceTopic, topic: "plant.quality.results", range: .offsets([
                PartitionOffsets(partition: 0, from: 10, until: 20), PartitionOffsets(partition: 1, from: 0),
            ]))
            ids.append(try await ledger.createJob(next).id)
        }
        let listed = try await ledger.jobs(limit: 2)
        #expect(listed.map(\.id) == [ids[2], ids[1]])
        #expect(listed[1].mode == .redrive)
        #expect(listed[0].source.range == .offsets([
            PartitionOffsets(partition: 0, from: 10, until: 20), PartitionOffsets(partition: 1, from: 0),
        ]))
        try await ledger.setState(jobID: ids[0], to: .running)
        try await ledger.updateProgress(
            jobID: ids[0], topic: "plant.quality.results", partition: 1, nextOffset: 3, counts: ReplayCounts(selected: 3)
        )
        #expect(try await ledger.progress(jobID: ids[0]).map(\.nextOffset) == [3])
        #expect(try await ledger.cancel(jobID: ids[0]).state == .cancelling)
        #expect(try await ledger.job(id: ids[0])?.counts.selected == 3)
    }
}
