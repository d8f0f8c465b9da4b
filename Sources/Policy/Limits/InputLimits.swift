/// Every bound PlantRouter puts on bytes it did not write itself, in one place.
///
/// Anything a producer, an HTTP client, an operator's file or a Topics/ author can send is
/// hostile until it has been checked against one of these limits. Each limit has a name that
/// appears in the error or dead-letter text it causes, a default here, and a line in
/// Docs/Limits.md. Record limits can be tightened or widened per deployment in the catalog's
/// `limits:` section; the others are fixed in code because raising them only widens an attack.
public struct InputLimits: Sendable, Equatable {
    // MARK: Records (catalog `limits:`; exceeding one dead-letters the record with reason `parse`)

    /// `maxEventBytes`: largest record value (body). Default 256 KiB.
    public var maxEventBytes = 256 * 1024
    /// `maxHeaders`: most headers on one record. Default 64; CloudEvents needs about 10.
    public var maxHeaders = 64
    /// `maxHeaderBytes`: all header names and values of one record together. Default 16 KiB.
    public var maxHeaderBytes = 16 * 1024
    /// `maxKeyBytes`: largest record key. Default 4 KiB.
    public var maxKeyBytes = 4 * 1024
    /// `maxJSONDepth`: deepest nesting of objects and arrays in a body. Default 64.
    public var maxJSONDepth = 64
    /// `maxNumberMagnitude`: largest absolute value of a JSON number. Default 1e15, so that the
    /// sum over the largest window stays finite and exact enough to compare.
    public var maxNumberMagnitude = 1e15
    /// `maxClockSkew`: how far (milliseconds) an event's time may lie ahead of the router's clock
    /// and still move a window. A later event is still routed, but windows ignore it. Default 5 min.
    public var maxClockSkewMs: Int64 = 5 * 60 * 1000

    public init() {}

    /// Distinct keys one rule keeps window or edge-trigger state for. 100,000. Fixed: keys come
    /// from events, so at the limit the rule's state starts over, as after a reload.
    public static let maxWindowKeys = 100_000
    /// Entries in all windows of one rule together. 1,000,000 (about 17 MB). Fixed; at the limit
    /// the rule's window state starts over, as after a reload.
    public static let maxWindowEntries = 1_000_000

    // MARK: Topics/ (fixed; exceeding one fails `policy check` and a reload with a diagnostic)

    /// Largest file in a Topics directory (catalog, policy, a schema). 4 MiB.
    public static let maxTopicsFileBytes = 4 << 20
    /// Deepest nesting of an expression (parentheses, `not`, operators). 64. Bounds the parser's,
    /// the type checker's and the compiled closures' recursion alike.
    public static let maxExpressionDepth = 64
    /// Longest expression text. 4,096 characters.
    public static let maxExpressionLength = 4096
    /// YAML aliases (`*name`) in one Topics file. 0: anchors and aliases are refused, so a
    /// file cannot expand exponentially ("billion laughs").
    public static let maxYAMLAliases = 0
    /// Deepest nesting of mappings and lists in a Topics YAML file. 32 (the shipped files need 10).
    public static let maxYAMLDepth = 32
    /// Most values (scalars, lists, mappings) in one Topics YAML file. 50,000 (the shipped
    /// catalog has about 1,500). A 4 MiB flow list would otherwise build ~2 million nodes.
    public static let maxYAMLNodes = 50_000
    /// Longest duration in a policy (`over:`, `lateness:`, cool-downs). 30 days.
    public static let maxDurationMs: Int64 = 30 * 24 * 3600 * 1000
    /// Longest topic `retention:` in the catalog. 3,650 days (ten years).
    public static let maxRetentionMs: Int64 = 3650 * 24 * 3600 * 1000
    /// Largest count window (`last:`). 10,000 events.
    public static let maxCountWindow = 10_000
    /// Longest schema `pattern`. 256 characters; nested quantifiers are refused outright.
    public static let maxSchemaPatternLength = 256
    /// Longest string a schema `pattern` is matched against; a longer one fails the schema. 1 KiB:
    /// even `\d+$` is quadratic in an unanchored search (0.76 s at 4 KiB on the shared CI cores,
    /// about 50 ms at 1 KiB).
    public static let maxPatternSubjectBytes = 1024
    /// Most values in one schema `enum`. 1,024 (checked one by one for every event).
    public static let maxSchemaEnumValues = 1024
    /// Latest position a required property may have among an object schema's properties (declared
    /// ones first, then required names not declared). 64: validators track required properties
    /// in one 64-bit mask, so a later one would go unchecked; the schema is refused instead.
    public static let maxRequiredPropertyPosition = 64

    // MARK: Admin API and replays (fixed; exceeding one answers 400 with the bound)

    /// Largest admin request body. 64 KiB; a larger one answers 413.
    public static let maxRequestBodyBytes = 64 * 1024
    /// Replay `rate` (API and `replay --rate`), events per second: 0.1 to 100,000. Absent
    /// means unlimited. The rate limiter clamps to this range too, whatever a stored job says.
    public static let replayRate: ClosedRange<Double> = 0.1...100_000
    /// Replay `maxReplays` (the loop guard): 1 to 100.
    public static let replayMaxReplays: ClosedRange<Int> = 1...100
    /// Replay `fromOffset`/`toOffset`: 0 to Int64.max - 1, so "through toOffset" never overflows.
    public static let replayOffset: ClosedRange<Int64> = 0...(Int64.max - 1)
    /// Replay `partition`: 0 to Int32.max (Kafka's partition numbers).
    public static let replayPartition: ClosedRange<Int32> = 0...Int32.max
    /// Replay `eventId` (a `ce_id`): 1 to 512 bytes.
    public static let replayEventIDBytes: ClosedRange<Int> = 1...512
    /// Replay `since`/`until`: 1970-01-01 to 9999-12-31 (seconds since 1970), the range Kafka
    /// timestamps and RFC 3339 share.
    public static let replayTime: ClosedRange<Double> = 0...253_402_300_799
    /// `limit` of list endpoints (`GET /v1/replays?limit=`): 1 to 1000.
    public static let listLimit: ClosedRange<Int> = 1...1000
    /// Seconds a connection to the admin API or the edge ingest may go without a complete
    /// request part (headers or a body chunk) before it is closed. 30: a client that opens
    /// connections and never finishes a request would otherwise hold each one for good.
    public static let httpIdleTimeoutSeconds: Int64 = 30
    /// Largest request header field, all header fields together, and most header fields, for
    /// the admin API and the edge ingest. 8 KiB, 16 KiB, 100: what a token and a proxy's headers
    /// need; a larger header answers 400 and closes the connection.
    public static let maxHTTPHeaderFieldBytes = 8 * 1024
    public static let maxHTTPHeaderListBytes = 16 * 1024
    public static let maxHTTPHeaderFields = 100
    /// Most connections the admin API holds open at once. 256; a connection past it is closed
    /// as soon as it opens. Health probes, scrapes and operators need a handful.
    public static let maxAdminConnections = 256
    /// Longest client-supplied `X-Forwarded-For` the admin audit log repeats (after the peer
    /// address, which it always logs). 200 characters, control characters dropped.
    public static let maxLoggedForwardedFor = 200

    // MARK: Edge ingest (`plantrouter edge`; fixed; exceeding one answers 413 or 400 with the bound)

    /// Largest HTTP request body the edge ingest reads (one event or one batch). 4 MiB; a
    /// larger one answers 413 before it is spooled. One event inside it is still bounded by
    /// the catalog's `maxEventBytes`.
    public static let maxEdgeRequestBodyBytes = 4 << 20
    /// Most events in one `application/cloudevents-batch+json` request. 1,000; a larger batch
    /// answers 413 and nothing of it is spooled.
    public static let maxEdgeBatchEvents = 1000
    /// Longest `Authorization` bearer token the edge compares. 512 bytes; a longer one is 401.
    public static let maxEdgeTokenBytes = 512
    /// Most connections the edge ingest holds open at once. 1,024: gateways keep a connection or
    /// a few each; one past it is closed as soon as it opens.
    public static let maxEdgeConnections = 1024
    /// Keys (assets) remembered per downsampled lane (`downsample:` in edge.yaml). 100,000;
    /// while a lane remembers that many keys with open intervals, events of new keys are kept,
    /// not downsampled, so the bound costs WAN bandwidth, never an event.
    public static let maxEdgeDownsampleKeys = 100_000
    /// Longest downsampling interval. 24 h.
    public static let maxEdgeDownsampleIntervalMs: Int64 = 24 * 3600 * 1000

    // MARK: Recorded-event files (`--events FILE.jsonl`, `simulate --record`)

    /// Longest line of a recorded-event file. 1 MiB.
    public static let maxRecordedLineBytes = 1 << 20

    /// Largest record the audit index reads from the audit topic (Docs/Limits.md). A decision
    /// with its outputs is a few hundred bytes; a larger record is skipped and counted.
    public static let maxAuditEntryBytes = 1 << 20
}
