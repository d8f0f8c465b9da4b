import Crypto
import Foundation
import Yams

/// Bearer tokens and their roles, from a YAML or JSON file (`token: role`) and/or the
/// environment variable PLANTROUTER_ADMIN_TOKENS (the same map as JSON, or
/// `token=role,token=role`).
public struct AdminTokens: Sendable {
    public static let environmentVariable = "PLANTROUTER_ADMIN_TOKENS"

    /// SHA-256 digests of the tokens, never the tokens: comparing fixed-size digests takes
    /// the same time whatever the presented token's length or content.
    private let digests: [(digest: [UInt8], role: AdminRole)]

    public init(_ roles: [String: AdminRole]) {
        digests = roles.map { (Self.digest($0.key), $0.value) }
    }

    public var isEmpty: Bool { digests.isEmpty }
    public var count: Int { digests.count }

    /// Loads `file` (if given) and the environment; errors name the file and the bad entry.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AdminTokens {
        var roles: [String: AdminRole] = [:]
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
                        throw AdminTokensError("\(environmentVariable): entry '\(entry.prefix(4))…' is not token=role; use token=viewer or token=operator, comma-separated")
                    }
                    roles[parts[0]] = try role(parts[1], origin: environmentVariable)
                }
            }
        }
        return AdminTokens(roles)
    }

    /// The role of `token`. Compares the token's digest with every stored digest, all of
    /// them and each in full, so neither which token matched nor how much of it did shows in
    /// the time taken.
    public func role(of token: String) -> AdminRole? {
        let presented = Self.digest(token)
        var found: AdminRole?
        for entry in digests {
            var difference: UInt8 = 0
            for index in 0..<presented.count { difference |= entry.digest[index] ^ presented[index] }
            if difference == 0 { found = entry.role }
        }
        return found
    }

    /// Refuses a tokens file that group or others may read, as ssh refuses such a key: its
    /// tokens would be known to every local user. Follows symbolic links (mounted secrets).
    static func checkPermissions(of file: String) throws {
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw AdminTokensError("\(file): cannot read the admin tokens file; create it (token: role per line, mode 600) or remove admin.tokensFile")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw AdminTokensError("\(file): the admin tokens file is readable by group or others (mode \(String(mode, radix: 8))); it holds secrets. Run `chmod 600 \(file)`")
        }
    }

    private static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

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
            guard !token.isEmpty else { throw AdminTokensError("\(origin): an empty token; every token needs characters (e.g. `openssl rand -hex 32`)") }
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
}

public struct AdminTokensError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
