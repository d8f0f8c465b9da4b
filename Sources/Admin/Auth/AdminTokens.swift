import Foundation
import Yams

/// Bearer tokens and their roles, from a YAML or JSON file (`token: role`) and/or the
/// environment variable PLANTROUTER_ADMIN_TOKENS (the same map as JSON, or
/// `token=role,token=role`).
public struct AdminTokens: Sendable {
    public static let environmentVariable = "PLANTROUTER_ADMIN_TOKENS"

    private let roles: [String: AdminRole]

    public init(_ roles: [String: AdminRole]) {
        self.roles = roles
    }

    public var isEmpty: Bool { roles.isEmpty }
    public var count: Int { roles.count }

    /// Loads `file` (if given) and the environment; errors name the file and the bad entry.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AdminTokens {
        var roles: [String: AdminRole] = [:]
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw AdminTokensError("\(file): cannot read the admin tokens file; create it (token: role per line) or remove admin.tokensFile")
            }
            try roles.merge(parseMap(text, origin: file)) { $1 }
        }
        if let value = environment[environmentVariable], !value.isEmpty {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("{") {
                try roles.merge(parseMap(trimmed, origin: environmentVariable)) { $1 }
            } else {
                for entry in trimmed.split(separator: ",") {
                    let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2, !parts[0].isEmpty else {
                        throw AdminTokensError("\(environmentVariable): entry '\(entry.prefix(4))…' is not token=role; use token=viewer or token=operator, comma-separated")
                    }
                    roles[parts[0]] = try role(parts[1], origin: environmentVariable)
                }
            }
        }
        return AdminTokens(roles)
    }

    /// The role of `token`, comparing in constant time per stored token.
    public func role(of token: String) -> AdminRole? {
        let presented = Array(token.utf8)
        var found: AdminRole?
        for (candidate, role) in roles where Self.constantTimeEqual(Array(candidate.utf8), presented) {
            found = role
        }
        return found
    }

    private static func parseMap(_ text: String, origin: String) throws -> [String: AdminRole] {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw AdminTokensError("\(origin): not valid YAML or JSON: \(error)")
        }
        guard let map = loaded as? [String: Any] else {
            throw AdminTokensError("\(origin): expected a map of token → role, e.g. {\"s3cret\": \"operator\"}")
        }
        var roles: [String: AdminRole] = [:]
        for (token, value) in map {
            roles[token] = try role("\(value)", origin: origin)
        }
        return roles
    }

    private static func role(_ text: String, origin: String) throws -> AdminRole {
        guard let role = AdminRole(rawValue: text) else {
            throw AdminTokensError("\(origin): unknown role '\(text)'; roles are viewer and operator")
        }
        return role
    }

    private static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

public struct AdminTokensError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
