import Crypto
import Foundation

/// Bearer tokens held as SHA-256 digests, each with who holds it: the admin API's tokens and
/// the edge's gateway tokens. The tokens themselves are never kept.
///
/// A lookup compares the presented token's digest with every stored digest, all of them and
/// each in full, so the time it takes shows neither which token matched, nor how much of it
/// did, nor how long the stored tokens are.
public struct TokenDigests<Holder: Sendable>: Sendable {
    private let entries: [(digest: [UInt8], holder: Holder)]

    public init(_ holders: [String: Holder]) {
        entries = holders.map { (Self.digest($0.key), $0.value) }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    /// Who holds `token`, or nil.
    public func holder(of token: some StringProtocol) -> Holder? {
        let presented = Self.digest(token)
        var found: Holder?
        for entry in entries {
            var difference: UInt8 = 0
            for (stored, given) in zip(entry.digest, presented) { difference |= stored ^ given }
            if difference == 0 { found = entry.holder }
        }
        return found
    }

    /// Refuses a secrets file that group or others may read, as ssh refuses such a key: its
    /// tokens would be known to every local user. Follows symbolic links (mounted secrets).
    /// Returns nil when the file is private, else what is wrong with it.
    public static func problem(withSecretsFile file: String) -> SecretsFileProblem? {
        var info = stat()
        guard stat(file, &info) == 0 else { return .unreadable }
        let mode = info.st_mode & 0o777
        return mode & 0o077 == 0 ? nil : .readableByOthers(mode: String(mode, radix: 8))
    }

    private static func digest(_ token: some StringProtocol) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }
}

/// Why a secrets file is refused.
public enum SecretsFileProblem: Sendable, Equatable {
    case unreadable
    case readableByOthers(mode: String)
}
