/// What went wrong with an inspection or a replay, and how to fix it.
public struct ReplayError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case invalidRequest, notFound, conflict, kafka }

    public var kind: Kind
    public var message: String
    public var description: String { message }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static func unknownLane(_ lane: String, known: [String]) -> ReplayError {
        ReplayError(.invalidRequest, "unknown lane '\(lane)'; the catalog's lanes are: \(known.joined(separator: ", "))")
    }

    static func jobNotFound(_ id: String) -> ReplayError {
        ReplayError(.notFound, "no replay job '\(id)'; `plantrouter replay list` shows the recorded jobs")
    }
}
