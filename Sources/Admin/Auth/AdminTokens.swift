import Credentials
import Foundation
import Yams

/// Who a bearer token is: its role and its name (recorded as a replay's `requestedBy` and in
/// the audit log). A token given without a name is `unnamed-<role>`.
public struct AdminIdentity: Sendable, Hashable {
    public var role: AdminRole
    public var name: String

    public init(role: AdminRole, name: String? = nil) {
        self.role = role
        self.name = name ?? "unnamed-\(role.rawValue)"
    }
}

/// Bearer tokens, their roles and names, from a YAML or JSON file and/or the environment
/// variable PLANTROUTER_ADMIN_TOKENS. Each file entry is `token: role` (the original form,
/// still read) or `token: {role: operator, name: alice}`; the variable holds the same map as
/// JSON, or `token=role[:name],token=role[:name]`.
public struct AdminTokens: Sendable {
    public static let environmentVariable = "PLANTROUTER_ADMIN_TOKENS"

    /// Digests of the tokens, never the tokens (see `TokenDigests` for how they compare).
    private let digests: TokenDigests<AdminIdentity>

    public init(_ roles: [String: AdminRole]) {
        self.init(identities: roles.mapValues { AdminIdentity(role: $0) })
    }

    public init(identities: [String: AdminIdentity]) {
        digests = TokenDigests(identities)
    }

    public var isEmpty: Bool { digests.isEmpty }
    public var count: Int { digests.count }

    /// Loads `file` (if given) and the environment; errors name the file and the bad entry.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AdminTokens {
        var roles: [String: AdminIdentity] = [:]
        if let file {
            try checkPermissions(of: file)
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
                        throw AdminTokensError("\(environmentVariable): entry '\(entry.prefix(4))…' is not token=role[:name]; use token=viewer or token=operator:alice, comma-separated")
                    }
                    let roleAndName = parts[1].split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    roles[parts[0]] = AdminIdentity(
                        role: try role(roleAndName[0], origin: environmentVariable),
                        name: try roleAndName.count == 2 ? name(roleAndName[1], origin: environmentVariable) : nil)
                }
            }
        }
        return AdminTokens(identities: roles)
    }

    /// The role of `token`. Compares the token's digest with every stored digest, all of
    /// them and each in full, so neither which token matched nor how much of it did shows in
    /// the time taken.
    public func role(of token: String) -> AdminRole? { identity(of: token)?.role }

    /// The role and name of `token`, compared the same way as `role(of:)`.
    public func identity(of token: String) -> AdminIdentity? { digests.holder(of: token) }

    /// Refuses a tokens file that group or others may read, as ssh refuses such a key: its
    /// tokens would be known to every local user. Follows symbolic links (mounted secrets).
    static func checkPermissions(of file: String) throws {
        switch TokenDigests<AdminIdentity>.problem(withSecretsFile: file) {
        case nil:
            return
        case .unreadable:
            throw AdminTokensError("\(file): cannot read the admin tokens file; create it (token: role per line, mode 600) or remove admin.tokensFile")
        case .readableByOthers(let mode):
            throw AdminTokensError("\(file): the admin tokens file is readable by group or others (mode \(mode)); it holds secrets. Run `chmod 600 \(file)`")
        }
    }

    private static func parseMap(_ text: String, origin: String) throws -> [String: AdminIdentity] {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw AdminTokensError("\(origin): not valid YAML or JSON: \(error)")
        }
        guard let map = loaded as? [String: Any] else {
            throw AdminTokensError("\(origin): expected a map of token → role, e.g. {\"s3cret\": \"operator\"}")
        }
        var roles: [String: AdminIdentity] = [:]
        for (token, value) in map {
            guard !token.isEmpty else { throw AdminTokensError("\(origin): an empty token; every token needs characters (e.g. `openssl rand -hex 32`)") }
            if let entry = value as? [String: Any] {
                let unknown = entry.keys.filter { $0 != "role" && $0 != "name" }.sorted()
                guard unknown.isEmpty, let roleText = entry["role"] else {
                    throw AdminTokensError("\(origin): a token's entry needs role (and may have name), e.g. {role: operator, name: alice}\(unknown.isEmpty ? "" : "; unknown key \(unknown.joined(separator: ", "))")")
                }
                roles[token] = AdminIdentity(
                    role: try role("\(roleText)", origin: origin), name: try entry["name"].map { try name("\($0)", origin: origin) })
            } else {
                roles[token] = AdminIdentity(role: try role("\(value)", origin: origin))
            }
        }
        return roles
    }

    /// A token's name: 1 to 64 letters, digits and `._@-`, so it reads plainly in logs.
    private static func name(_ text: String, origin: String) throws -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._@-"))
        guard (1...64).contains(text.count), text.unicodeScalars.allSatisfy(allowed.contains) else {
            throw AdminTokensError("\(origin): token name '\(text.prefix(64))' must be 1 to 64 letters, digits or ._@- (e.g. alice, ci-deploy)")
        }
        return text
    }

    private static func role(_ text: String, origin: String) throws -> AdminRole {
        guard let role = AdminRole(rawValue: text) else {
            throw AdminTokensError("\(origin): unknown role '\(text)'; roles are viewer and operator")
        }
        return role
    }
}

public struct AdminTokensError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
