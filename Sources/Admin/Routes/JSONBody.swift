import Foundation
import Hummingbird
import Policy
import Replay

/// Any Encodable as a JSON response, encoded like every `--json` line (`ReportJSON`: ISO
/// 8601 dates, sorted keys, `/` unescaped).
struct JSONBody<Value: Encodable & Sendable>: ResponseGenerator {
    var value: Value
    var status: HTTPResponse.Status = .ok

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try ReportJSON.encoder().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A request body that is a JSON object with exactly these keys (each optional): any other
/// key is refused, so a misspelt option (`dryrun`) cannot be ignored into a real action.
protocol StrictJSONObject: Decodable {
    static var jsonKeys: [String] { get }
}

extension ReplayRequest: StrictJSONObject {
    static var jsonKeys: [String] { fieldNames }
}

extension Request {
    /// Decodes a JSON object body of at most `InputLimits.maxRequestBodyBytes`; a malformed,
    /// oversized or misspelt one is a 4xx that says what is wrong and how to fix it.
    func decodeJSON<Value: StrictJSONObject>(as type: Value.Type, context: AdminRequestContext) async throws -> Value {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // NIO's "too many bytes", which Hummingbird answers 413 with no body.
            throw HTTPError(.contentTooLarge, message: "the request body is over the limit of \(context.maxUploadSize) bytes (InputLimits.maxRequestBodyBytes); send only the options documented in /openapi.yaml")
        }
        if buffer.readableBytes == 0 {
            throw HTTPError(.badRequest, message: "the request needs a JSON body; see /openapi.yaml")
        }
        // Foundation's decoder keeps the first of two equal keys, where a proxy or reviewer that
        // keeps the last would read `{"dryRun": false, "dryRun": true}` as another request. The
        // policy's parser refuses duplicate keys (at any depth) and reads the body once, bounded.
        do {
            _ = try JSONDocument(parsing: Array(buffer.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: "invalid JSON body: \(error)")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(StrictBody<Value>.self, from: Data(buffer.readableBytesView)).value
        } catch let error as UnknownKeys {
            throw HTTPError(.badRequest, message: "invalid JSON body: \(error)")
        } catch let error as NullValue {
            throw HTTPError(.badRequest, message: "invalid JSON body: \(error)")
        } catch let error as DecodingError {
            throw HTTPError(.badRequest, message: "invalid JSON body: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "" : " at '\(path.map(\.stringValue).joined(separator: "."))'"
        }
        switch error {
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "\(underlying ?? context.debugDescription)\(at(context.codingPath))"
        case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)'\(at(context.codingPath))"
        case .typeMismatch(let type, let context): return "expected \(type == [String: Any].self ? "a JSON object" : "\(type)")\(at(context.codingPath))"
        case .valueNotFound(let type, let context): return "expected \(type), found null\(at(context.codingPath))"
        @unknown default: return "\(error)"
        }
    }
}

/// Checks the body's keys against `Value.jsonKeys`, then decodes `Value` from it.
private struct StrictBody<Value: StrictJSONObject>: Decodable {
    var value: Value

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: AnyKey.self)
        let unknown = object.allKeys.map(\.stringValue).filter { !Value.jsonKeys.contains($0) }.sorted()
        guard unknown.isEmpty else { throw UnknownKeys(keys: unknown, allowed: Value.jsonKeys) }
        // null is not "absent" in the documented schema; one meaning per spelling.
        for key in object.allKeys where try object.decodeNil(forKey: key) {
            throw NullValue(key: key.stringValue)
        }
        value = try Value(from: decoder)
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// `"rate": null`: refused rather than read as absent, so each option has one spelling.
struct NullValue: Error, CustomStringConvertible {
    var key: String
    var description: String { "'\(key)' is null; leave the key out for its default" }
}

/// "unknown key 'dryrun'; did you mean 'dryRun'? (allowed: …)".
struct UnknownKeys: Error, CustomStringConvertible {
    var keys: [String]
    var allowed: [String]

    /// Longer keys are not misspellings; comparing them would only cost time.
    static let longestSuggestible = 64

    var description: String {
        let named = keys.prefix(5).map { "'\($0.prefix(Self.longestSuggestible))'" }.joined(separator: ", ")
        let more = keys.count > 5 ? " and \(keys.count - 5) more" : ""
        let first = keys.first ?? ""
        let hint = first.count <= Self.longestSuggestible ? Suggest.hint(for: first, in: allowed) : "allowed here: \(allowed.joined(separator: ", "))"
        return "unknown key\(keys.count == 1 ? "" : "s") \(named)\(more); \(hint)"
    }
}
