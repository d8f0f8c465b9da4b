/// What a bearer token may do: viewers read, operators also create and cancel replays and
/// reload the policy.
public enum AdminRole: String, Sendable, Codable, CaseIterable, Comparable {
    case viewer
    case `operator`

    public static func < (lhs: AdminRole, rhs: AdminRole) -> Bool {
        lhs == .viewer && rhs == .operator
    }
}
