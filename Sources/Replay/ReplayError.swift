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

    static func trailNeedsLedger(_ id: String) -> ReplayError {
        ReplayError(.invalidRequest, "--correlation-id \(id) selects the events of that work order's audit trail, which lives in the ledger; pass --database FILE or --config FILE (the file `plantrouter trace \(id)` reads)")
    }

    static func jobNotFound(_ id: String) -> ReplayError {
        ReplayError(.notFound, "no replay job '\(id)'; `plantrouter replay list` shows the recorded jobs")
    }
}
