import Credentials
import Foundation
import Policy
import Yams

/// Bearer tokens of the line gateways, each naming its gateway, held and compared as the admin
/// API's are (`TokenDigests`). Not `AdminTokens` itself: a gateway has a name but no admin role.
public struct GatewayTokens: Sendable {
    public static let environmentVariable = "PLANTROUTER_EDGE_TOKENS"
    private let digests: TokenDigests<String>

    public init(_ gateways: [String: String]) {
        digests = TokenDigests(gateways)
    }

    public var isEmpty: Bool { digests.isEmpty }

    /// The gateway `token` belongs to, or nil.
    public func gateway(of token: Substring) -> String? {
        guard token.utf8.count <= InputLimits.maxEdgeTokenBytes else { return nil }
        return digests.holder(of: token)
    }

    /// `file` (a YAML map token → gateway name, mode 600) and `PLANTROUTER_EDGE_TOKENS`
    /// (`token=name,token=name`).
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GatewayTokens {
        var gateways: [String: String] = [:]
        if let file {
            switch TokenDigests<String>.problem(withSecretsFile: file) {
            case nil:
                break
            case .unreadable:
                throw EdgeConfigurationError("\(file): cannot read the gateway tokens file")
            case .readableByOthers(let mode):
                throw EdgeConfigurationError("\(file): the gateway tokens file is readable by group or others (mode \(mode)); it holds secrets. Run `chmod 600 \(file)`")
            }
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                  let map = (try? Yams.load(yaml: text)) as? [String: Any] else {
                throw EdgeConfigurationError("\(file): expected a YAML map of token → gateway name")
            }
            for (token, name) in map {
                guard !token.isEmpty else { throw EdgeConfigurationError("\(file): an empty token") }
                gateways[token] = "\(name)"
            }
        }
        if let value = environment[environmentVariable], !value.isEmpty {
            for entry in value.split(separator: ",") {
                let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw EdgeConfigurationError("\(environmentVariable): entries are token=gateway-name, comma-separated")
                }
                gateways[parts[0]] = parts[1]
            }
        }
        return GatewayTokens(gateways)
    }
}
