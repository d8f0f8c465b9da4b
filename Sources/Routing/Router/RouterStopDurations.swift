/// How long each part of a router's stop took, measured on the thread that did it.
public struct RouterStopDurations: Sendable {
    /// Each lane's drain, commit, group leave and client close, by lane name.
    public var lanes: [String: Duration] = [:]
    /// Reading the lanes' last audit entries into the ledger; nil without an audit topic.
    public var auditIndexCatchUp: Duration?
}
