import Foundation

/// Catalog + schemas + compiled rules + version: everything an engine needs, immutable and
/// shareable between lanes (each lane's `PolicyEngine` keeps its own mutable state).
public final class LoadedPolicy: Sendable {
    /// `version:` from policy.yaml, stamped on every decision and output (`policy-version`).
    public let version: String
    public let description: String?
    public let catalog: Catalog
    /// The Topics directory this was loaded from.
    public let directory: URL
    let rules: [CompiledRule]
    /// What `policy check` warns about: the policy loads, but may not do what was meant.
    public let warnings: [Diagnostic]

    init(version: String, description: String?, catalog: Catalog, directory: URL, rules: [CompiledRule], warnings: [Diagnostic] = []) {
        self.warnings = warnings
        self.version = version
        self.description = description
        self.catalog = catalog
        self.directory = directory
        self.rules = rules
    }

    /// Rules in evaluation order.
    public var ruleSummaries: [RuleSummary] {
        rules.map { RuleSummary(id: $0.id, description: $0.description, topic: $0.topic, types: $0.types.map(\.pattern),
                                outcome: $0.outcome.kind, targets: $0.outcome.targetTopics, location: $0.location) }
    }
}

/// A rule as shown in docs and tools.
public struct RuleSummary: Sendable {
    public var id: String
    public var description: String?
    public var topic: String
    public var types: [String]
    public var outcome: String
    public var targets: [String]
    public var location: SourceLocation
}
