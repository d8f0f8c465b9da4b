import Policy

/// The topics a replay of one lane may write, from the catalog: a redrive re-enters only
/// the lane's source topics, a re-route produces only workflow and analytics topics (the
/// only rule targets the policy loader allows) and the lane's own dead-letter topic. The
/// headers of a record say where it came from, but anyone who can write the topic writes
/// them too; they choose among these topics, never beyond them.
struct ReplayTargets {
    static let refusedClassification = "refused"

    let lane: Lane
    let sources: [String]
    let outputs: Set<String>

    init(lane: Lane, catalog: Catalog) {
        self.lane = lane
        sources = catalog.topics.filter { $0.role == .source && $0.lane == lane.name }.map(\.name)
        outputs = Set(catalog.topics.filter { $0.role == .workflow || $0.role == .analytics }.map(\.name) + [lane.deadLetterTopic])
    }

    /// Why the event may not re-enter `topic`, or nil when it may.
    func refusal(sourceTopic topic: String) -> String? {
        guard !sources.contains(topic) else { return nil }
        return "its original topic '\(topic.prefix(200))' (dlq-original-topic) is not a source topic of lane '\(lane.name)' in the catalog (\(sources.joined(separator: ", "))); a replay only re-enters those, so nothing was produced. Inspect the record: its dlq-* headers were not written by this lane's router"
    }

    /// Why a re-route may not produce to `topic`, or nil when it may.
    func refusal(output topic: String) -> String? {
        guard !outputs.contains(topic) else { return nil }
        return "the policy routes it to '\(topic.prefix(200))', which is not a workflow or analytics topic in the catalog nor lane '\(lane.name)'s dead-letter topic; nothing was produced"
    }
}
