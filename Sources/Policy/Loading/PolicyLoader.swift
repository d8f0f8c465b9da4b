import Foundation
import Yams

/// Reads Topics/policy.yaml against a loaded catalog: parses and type-checks every expression,
/// compiles rules, and runs the whole-policy checks (duplicates, reachability, feedback loops).
struct PolicyLoader {
    let catalog: Catalog
    let file: String
    let sink: DiagnosticSink

    static let topLevelKeys = ["version", "description", "rules"]
    static let ruleKeys = ["id", "description", "match", "correlate", "key", "window", "condition", "trigger", "then"]
    static let matchKeys = ["topic", "type", "source", "where"]
    static let windowKeys = ["over", "last", "lateness", "value", "hits"]
    static let thenKeys = ["workflow", "analytics", "drop", "deadLetter"]
    static let targetKeys = ["to", "type", "key", "payload"]
    static let correlateKeys = ["workOrder", "asset"]

    func load(text: String) -> (version: String, description: String?, rules: [CompiledRule])? {
        let yaml = YAMLDocument(file: file, text: text, sink: sink)
        guard let root = yaml.mapping(yaml.root, allowed: Self.topLevelKeys, what: "the policy") else { return nil }
        let version = root.string("version", hint: "add e.g. version: \"2026.03.1\"; it is stamped on every routed event") ?? "unversioned"
        var rules: [CompiledRule] = []
        var ids: [String: SourceLocation] = [:]
        let nodes = yaml.sequence(root["rules"], what: "rules")
        if nodes.isEmpty { sink.error(root.location, "the policy has no rules", hint: "add a 'rules:' list") }
        for node in nodes {
            guard let rule = loadRule(node, yaml) else { continue }
            if let first = ids[rule.id] {
                sink.error(rule.location, "duplicate rule id '\(rule.id)'", hint: "first defined at \(first); rule ids must be unique (they appear in outputs and audit records)")
                continue
            }
            ids[rule.id] = rule.location
            rules.append(rule)
        }
        checkReachability(rules)
        checkFeedback(rules)
        return (version, root.string("description", required: false), rules)
    }

    // MARK: Rules

    private func loadRule(_ node: Node, _ yaml: YAMLDocument) -> CompiledRule? {
        guard let m = yaml.mapping(node, allowed: Self.ruleKeys, what: "a rule"), let id = m.string("id") else { return nil }
        guard let match = yaml.mapping(m["match"], allowed: Self.matchKeys, what: "match") else {
            sink.error(m.location, "rule '\(id)' has no 'match'", hint: "add match: { topic: <source topic>, type: <event type glob> }")
            return nil
        }
        guard let topicName = match.string("topic") else { return nil }
        guard let topic = catalog.topic(named: topicName) else {
            sink.error(match.location(of: "topic"), "undefined topic '\(topicName)'", hint: Suggest.hint(for: topicName, in: catalog.topics.filter { $0.role == .source }.map(\.name)))
            return nil
        }
        if topic.role != .source && topic.role != .workflow {
            sink.error(match.location(of: "topic"), "rule '\(id)' matches '\(topicName)', a \(topic.role.rawValue) topic the router does not route from",
                       hint: topic.role == .correlation ? "correlation topics are read into the work-order table; use 'correlate:' in rules instead" : "match a source topic")
        }
        var typeGlobs = match.strings("type").map { Glob($0.0) }
        if typeGlobs.isEmpty { typeGlobs = [Glob("*")] }
        let matchedEvents = topic.events.filter { e in typeGlobs.contains { $0.matches(e.type) } }
        for (glob, location) in zip(typeGlobs, match.strings("type").map(\.1)) where !topic.events.contains(where: { glob.matches($0.type) }) {
            sink.error(location, "type '\(glob)' matches no event type of topic '\(topicName)'", hint: "the topic carries: \(topic.events.map(\.type).joined(separator: ", "))")
        }
        let sources = match.strings("source").map { Glob($0.0) }

        let hasWindow = m.has("window")
        let windowMapping = yaml.mapping(m["window"], allowed: Self.windowKeys, what: "window")
        var scope = ExpressionScope(schemas: matchedEvents.map(\.schema), hasWorkOrder: m.has("correlate"), hasWindow: false, hasWindowHits: false)
        var terms: [(String, ValueFn)] = []
        var termNames: Set<String> = []
        // `policy explain` shows the names that decide whether the rule applies (match.where,
        // correlate, key, window, condition); names only used to build target payloads are not.
        var collectingTerms = true
        // Whether the rule reads `workorder.*` beyond `id`, and where its outputs name an order.
        var needsOrderDetails = false
        var outputNamingOrder: SourceLocation?
        func compile(_ node: Node?, _ what: String, expect: ValueType?) -> Expression? {
            guard let node else { return nil }
            guard let scalar = node.scalar else {
                sink.error(yaml.location(node), "\(what) must be an expression on one line", hint: "write it as a string, e.g. payload.value > 10")
                return nil
            }
            let start = yaml.location(node)
            let base = [.singleQuoted, .doubleQuoted].contains(scalar.style) ? start.advanced(byColumns: 1) : start
            let compiler = ExpressionCompiler(scope: scope)
            do throws(ExpressionError) {
                let expression = try ExpressionParser.parse(scalar.string)
                let type = try compiler.type(of: expression)
                if let expect, type != expect, type != .any {
                    throw ExpressionError(offset: 0, message: "\(what) must be \(expect == .bool ? "a condition (true/false)" : "a \(expect)"), but this expression is \(type)",
                                          hint: expect == .bool ? "compare the value, e.g. payload.value > 10" : nil)
                }
                if collectingTerms { collectTerms(expression, compiler, into: &terms, names: &termNames) }
                let references = expression.references
                if references.contains(where: { if case .workOrder(let f) = $0 { f != .id } else { false } }) { needsOrderDetails = true }
                if outputNamingOrder == nil, what.hasPrefix("payload field") || what == "target key",
                   what.lowercased().contains("workorder") || references.contains(where: Self.namesWorkOrder) {
                    outputNamingOrder = start
                }
                return expression
            } catch {
                let location = locate(error.offset, in: scalar.string, from: base)
                sink.error(location, "in \(what): \(error.message)", hint: error.hint)
                return nil
            }
        }
        let compiler = { ExpressionCompiler(scope: scope) }

        let correlateNode = m["correlate"]
        var correlateParts: (named: CorrelationSpec.Named?, asset: Expression?)?
        if let correlateNode {
            correlateParts = loadCorrelate(correlateNode, yaml, scope: scope, compile: compile)
        }
        let filterExpression = compile(match["where"], "match.where", expect: .bool)
        let keyExpression = compile(m["key"], "key", expect: .string)
        let key = keyExpression.map { compiler().value($0) }
        // A plain payload field as key lets the engine find the rule's state by the field's bytes.
        let keyPath: FieldPath? = if case .reference(.payload(let path))? = keyExpression?.node { FieldPath(path) } else { nil }

        var window: WindowSpec?
        if let w = windowMapping {
            let over = w.string("over", required: false)
            let last = w.int("last", required: false, range: 1...InputLimits.maxCountWindow, limitName: "InputLimits.maxCountWindow")
            var kind: WindowKind?
            switch (over, last) {
            case (_?, nil):
                if let duration = w.duration("over", limit: InputLimits.maxDurationMs, limitName: "InputLimits.maxDurationMs", example: "5m") {
                    if duration == 0 { sink.error(w.location(of: "over"), "window duration must be longer than 0", hint: "use a duration like 30s, 5m or 1h") }
                    let lateness = w.has("lateness") ? w.duration("lateness", limit: InputLimits.maxDurationMs, limitName: "InputLimits.maxDurationMs", example: "30s") : 0
                    if duration > 0 { kind = .time(durationMs: duration, latenessMs: lateness ?? 0) }
                }
            case (nil, let last?):
                if w.has("lateness") { sink.error(w.location(of: "lateness"), "'lateness' applies to time windows ('over:') only", hint: "remove it; count windows ('last:') use arrival order") }
                kind = .count(size: last)
            case (nil, nil) where !w.has("over") && !w.has("last"): sink.error(w.location, "window needs 'over: <duration>' or 'last: <count>'", hint: "e.g. over: 5m, or last: 10 for \"N of the last 10\"")
            case (nil, nil): break  // already reported as invalid
            default: sink.error(w.location, "window has both 'over' and 'last'", hint: "choose a time window (over) or a count window (last)")
            }
            let value = compile(w["value"], "window.value", expect: .number).map { compiler().number($0) }
            let hits = compile(w["hits"], "window.hits", expect: .bool).map { compiler().predicate($0) }
            if let kind { window = WindowSpec(kind: kind, value: value, hits: hits) }
            scope.hasWindow = true
            scope.hasWindowHits = w.has("hits")
        }
        let conditionExpression = compile(m["condition"], "condition", expect: .bool)
        let trigger = m.choice("trigger", TriggerMode.self, required: false) ?? .level
        if (hasWindow || trigger == .edge) && !m.has("key") {
            sink.error(m.location, "rule '\(id)' keeps state (window or edge trigger) but has no 'key'", hint: "add e.g. 'key: payload.asset' so state is kept per asset")
        }
        if trigger == .edge && !m.has("condition") {
            sink.error(m.location(of: "trigger"), "an edge trigger needs a 'condition'", hint: "edge fires when the condition becomes true; add one or remove 'trigger: edge'")
        }
        collectingTerms = false
        guard let outcome = loadOutcome(m, yaml, id: id, matchedEvents: matchedEvents, scope: scope, compile: compile) else { return nil }
        let correlate = correlateParts.map { parts in
            CorrelationSpec(named: parts.named, asset: parts.asset.map { compiler().value($0) }, needsOrderDetails: needsOrderDetails)
        }
        if case .workflow = outcome, correlateNode == nil, let at = outputNamingOrder {
            sink.warning(at, "rule '\(id)' sends a work order id in its outputs but its decision is not correlated: the order's trail, `trace` and `replay --correlation-id` will not find these events",
                         hint: "add 'correlate: { workOrder: payload.workOrderId }' (the event names its order) or 'correlate: payload.asset' (the active order on the asset)")
        }
        return CompiledRule(id: id, description: m.string("description", required: false), location: m.location, topic: topicName, types: typeGlobs, sources: sources,
                            filter: filterExpression.map { compiler().predicate($0) }, filterText: match.string("where", required: false),
                            correlate: correlate, key: key, keyPath: keyPath, window: window, condition: conditionExpression.map { compiler().predicate($0) },
                            conditionText: m.string("condition", required: false), trigger: trigger, outcome: outcome, explainTerms: terms)
    }

    /// `correlate:`: an expression (the asset whose active order to look up), or a mapping
    /// with `workOrder:` (where the event names its order) and/or `asset:`.
    private func loadCorrelate(_ node: Node, _ yaml: YAMLDocument, scope: ExpressionScope,
                               compile: (Node?, String, ValueType?) -> Expression?) -> (named: CorrelationSpec.Named?, asset: Expression?)? {
        let example = "correlate: payload.asset, or correlate: { workOrder: payload.workOrderId }, or correlate: { workOrder: header.correlation-id }"
        if let scalar = node.scalar {
            if scalar.string.hasPrefix("header.") {
                sink.error(yaml.location(node), "'correlate: \(scalar.string)' would look up the active work order on an asset named by a header",
                           hint: "to take the work order from the header write correlate: { workOrder: \(scalar.string) }")
                return nil
            }
            guard let asset = compile(node, "correlate", .string) else { return nil }
            if asset.references.contains(where: Self.namesWorkOrder) {
                sink.warning(yaml.location(node), "'correlate: \(scalar.string)' looks up the active work order on the asset named by this field, but the field looks like a work order id",
                             hint: "when the event names its order, write correlate: { workOrder: \(scalar.string) }")
            }
            return (nil, asset)
        }
        guard node.mapping != nil else {
            sink.error(yaml.location(node), "correlate must be an expression or a mapping", hint: example)
            return nil
        }
        guard let mapping = yaml.mapping(node, allowed: Self.correlateKeys, what: "correlate") else { return nil }
        guard mapping.has("workOrder") || mapping.has("asset") else {
            sink.error(mapping.location, "correlate names neither 'workOrder' nor 'asset'", hint: example)
            return nil
        }
        var named: CorrelationSpec.Named?
        if let orderNode = mapping["workOrder"] {
            if let text = orderNode.scalar?.string, text.hasPrefix("header.") {
                let name = String(text.dropFirst("header.".count))
                if name.isEmpty || name.utf8.count > InputLimits().maxHeaderBytes {
                    sink.error(yaml.location(orderNode), "'\(text)' names no header", hint: "write the header name after 'header.', e.g. header.correlation-id")
                    return nil
                }
                named = .header(name)
            } else {
                guard let expression = compile(orderNode, "correlate.workOrder", .string) else { return nil }
                if case .reference(.payload(let path)) = expression.node {
                    named = .payloadField(FieldPath(path))
                } else {
                    named = .expression(ExpressionCompiler(scope: scope).value(expression))
                }
            }
        }
        var asset: Expression?
        if let assetNode = mapping["asset"] {
            if let text = assetNode.scalar?.string, text.hasPrefix("header.") {
                sink.error(yaml.location(assetNode), "correlate.asset reads the event, not headers", hint: "use a payload field, e.g. asset: payload.asset")
                return nil
            }
            guard let expression = compile(assetNode, "correlate.asset", .string) else { return nil }
            asset = expression
        }
        return (named, asset)
    }

    /// A payload field whose name says it holds a work order id (`payload.workOrderId`).
    private static func namesWorkOrder(_ reference: Reference) -> Bool {
        guard case .payload(let path) = reference, let last = path.last?.lowercased() else { return false }
        return last.contains("workorder") || last == "orderid"
    }

    private func loadOutcome(_ m: YAMLMapping, _ yaml: YAMLDocument, id: String, matchedEvents: [TopicEvent], scope: ExpressionScope,
                             compile: (Node?, String, ValueType?) -> Expression?) -> RuleOutcome? {
        guard let then = yaml.mapping(m["then"], allowed: Self.thenKeys, what: "then") else {
            sink.error(m.location, "rule '\(id)' has no 'then'", hint: "add then: with one of workflow, analytics, drop, deadLetter")
            return nil
        }
        let present = Self.thenKeys.filter { then.has($0) }
        guard present.count == 1 else {
            sink.error(then.location, present.isEmpty ? "'then' names no outcome" : "'then' has several outcomes (\(present.joined(separator: ", ")))",
                       hint: "choose exactly one of workflow, analytics, drop, deadLetter; a workflow may list several targets")
            return nil
        }
        let compiler = ExpressionCompiler(scope: scope)
        switch present[0] {
        case "drop":
            return .drop(then.string("drop") ?? "dropped by \(id)")
        case "deadLetter":
            guard let d = yaml.mapping(then["deadLetter"], allowed: ["reason", "message"], what: "deadLetter") else { return nil }
            let reason = d.choice("reason", DeadLetterReason.self) ?? .policy
            return .deadLetter(reason, d.string("message", required: false) ?? "dead-lettered by rule \(id)")
        case "analytics":
            var topics: [String] = []
            for (name, location) in then.strings("analytics", required: true) {
                guard let topic = checkTarget(name, at: location, rule: id, allowed: [.analytics]) else { continue }
                for event in matchedEvents where topic.event(type: event.typeBytes) == nil {
                    sink.error(location, "analytics topic '\(name)' does not declare event type '\(event.type)' forwarded by rule '\(id)'", hint: "add it to the topic's events in catalog.yaml")
                }
                topics.append(name)
            }
            return .analytics(topics)
        default:
            var targets: [TargetSpec] = []
            let nodes = yaml.sequence(then["workflow"], what: "workflow")
            if nodes.isEmpty { sink.error(then.location(of: "workflow"), "workflow lists no targets", hint: "add '- to: <topic>' entries") }
            for node in nodes {
                guard let t = yaml.mapping(node, allowed: Self.targetKeys, what: "a workflow target"), let to = t.string("to"), let type = t.string("type") else { continue }
                guard let topic = checkTarget(to, at: t.location(of: "to"), rule: id, allowed: [.workflow, .analytics]) else { continue }
                let event = topic.event(type: Array(type.utf8))
                if event == nil {
                    sink.error(t.location(of: "type"), "topic '\(to)' does not declare event type '\(type)'", hint: "declared: \(topic.events.map(\.type).joined(separator: ", "))")
                }
                let key = compile(t["key"], "target key", .string).map { compiler.value($0) }
                var payload: PayloadTemplate?
                if let p = t["payload"] {
                    payload = template(p, yaml, schema: event?.schema, path: "", compile: compile, compiler: compiler)
                }
                targets.append(TargetSpec(topic: to, type: type, key: key, payload: payload, schema: event?.schema))
            }
            return .workflow(targets)
        }
    }

    /// Builds a payload template, checking field names and types against the target schema.
    private func template(_ node: Node, _ yaml: YAMLDocument, schema: JSONSchema?, path: String,
                          compile: (Node?, String, ValueType?) -> Expression?, compiler: ExpressionCompiler) -> PayloadTemplate? {
        if let mapping = node.mapping {
            var fields: [(name: String, value: PayloadTemplate)] = []
            for (keyNode, valueNode) in mapping {
                guard let name = keyNode.string else { continue }
                let property = schema?.property(name)
                if let schema, property == nil, case .some(.none) = schema.additional {
                    sink.error(yaml.location(keyNode), "target schema has no property '\(path)/\(name)'",
                               hint: Suggest.closest(to: name, in: schema.properties.map(\.name)).map { "did you mean '\($0)'?" } ?? "allowed: \(schema.properties.map(\.name).joined(separator: ", "))")
                }
                if let value = template(valueNode, yaml, schema: property?.schema, path: path + "/" + name, compile: compile, compiler: compiler) {
                    fields.append((name, value))
                }
            }
            for property in schema?.properties ?? [] where property.required && !fields.contains(where: { $0.name == property.name }) {
                sink.error(yaml.location(node), "payload mapping misses required property '\(path)/\(property.name)' of the target schema", hint: "add '\(property.name): <expression>'")
            }
            return .object(fields)
        }
        guard let expression = compile(node, "payload field \(path)", nil) else { return nil }
        if let schema, let type = try? compiler.type(of: expression) {
            let wanted = ValueType(schema.types)
            if !type.compatible(with: wanted) {
                sink.error(yaml.location(node), "payload field \(path) is \(type) but the target schema wants \(wanted)", hint: "string literals need quotes inside the YAML value, e.g. \"'high'\"")
            }
        }
        return .expression(compiler.value(expression))
    }

    private func checkTarget(_ name: String, at location: SourceLocation, rule: String, allowed: [TopicRole]) -> Topic? {
        guard let topic = catalog.topic(named: name) else {
            sink.error(location, "undefined topic '\(name)'", hint: Suggest.hint(for: name, in: catalog.topics.filter { allowed.contains($0.role) }.map(\.name)))
            return nil
        }
        switch topic.role {
        case .source, .correlation:
            sink.error(location, "rule '\(rule)' routes to '\(name)', a \(topic.role.rawValue) topic: this feeds an output back into an input",
                       hint: "route to a workflow or analytics topic; inputs are never targets")
            return nil
        case .audit:
            sink.error(location, "rule '\(rule)' routes to '\(name)', the router's audit topic", hint: "the router writes its audit topic itself; route to a workflow or analytics topic")
            return nil
        case .deadLetter:
            sink.error(location, "rule '\(rule)' routes to dead-letter topic '\(name)'", hint: "use 'then: { deadLetter: { reason: policy } }'; the router writes the lane's dead-letter topic")
            return nil
        case .workflow, .analytics:
            if !allowed.contains(topic.role) {
                sink.error(location, "'\(name)' is a \(topic.role.rawValue) topic", hint: "analytics outcomes go to analytics topics")
                return nil
            }
            return topic
        }
    }

    // MARK: Whole-policy checks

    /// A rule is unreachable when an earlier unconditional rule on the same topic matches a superset.
    private func checkReachability(_ rules: [CompiledRule]) {
        for (j, later) in rules.enumerated() {
            for earlier in rules[..<j] where earlier.topic == later.topic && earlier.isUnconditional {
                let typesCovered = later.types.allSatisfy { t in earlier.types.contains { $0.covers(t) } }
                let sourcesCovered = earlier.sources.isEmpty || earlier.sources.contains(where: \.matchesEverything)
                    || (!later.sources.isEmpty && later.sources.allSatisfy { s in earlier.sources.contains { $0.covers(s) } })
                if typesCovered && sourcesCovered {
                    sink.error(later.location, "rule '\(later.id)' is unreachable: rule '\(earlier.id)' at line \(earlier.location.line) matches every event it matches and has no condition (first matching rule wins)",
                               hint: "move '\(later.id)' above '\(earlier.id)', or narrow '\(earlier.id)' with a type, source, where or condition")
                    break
                }
            }
        }
    }

    /// Routes must not form loops between topics (a rule on topic A targeting B while a rule on B targets A).
    private func checkFeedback(_ rules: [CompiledRule]) {
        var edges: [String: [(String, CompiledRule)]] = [:]
        for rule in rules { for target in rule.outcome.targetTopics { edges[rule.topic, default: []].append((target, rule)) } }
        var reported: Set<String> = []
        func visit(_ topic: String, _ path: [String]) {
            for (target, rule) in edges[topic] ?? [] {
                if let start = path.firstIndex(of: target) {
                    if reported.insert(rule.id).inserted {
                        sink.error(rule.location, "rule '\(rule.id)' closes a routing cycle: \((path[start...] + [target]).joined(separator: " → "))",
                                   hint: "an output must never feed back into an input; route to a topic no rule consumes")
                    }
                } else if path.count < 32 {
                    visit(target, path + [target])
                }
            }
        }
        for topic in edges.keys.sorted() { visit(topic, [topic]) }
    }

    // MARK: Helpers

    private func collectTerms(_ e: Expression, _ compiler: ExpressionCompiler, into terms: inout [(String, ValueFn)], names: inout Set<String>) {
        switch e.node {
        case .reference(let r):
            if names.insert(r.description).inserted { terms.append((r.description, compiler.value(e))) }
        case .not(let x), .negate(let x): collectTerms(x, compiler, into: &terms, names: &names)
        case .binary(_, let l, let r): collectTerms(l, compiler, into: &terms, names: &names); collectTerms(r, compiler, into: &terms, names: &names)
        case .membership(let l, let items, _): collectTerms(l, compiler, into: &terms, names: &names); items.forEach { collectTerms($0, compiler, into: &terms, names: &names) }
        default: break
        }
    }

    /// Maps an offset in an expression to a file position (exact for single-line scalars).
    private func locate(_ offset: Int, in text: String, from base: SourceLocation) -> SourceLocation {
        let prefix = text.utf8.prefix(offset)
        let newlines = prefix.filter { $0 == 0x0A }.count
        if newlines == 0 { return base.advanced(byColumns: String(decoding: prefix, as: UTF8.self).count) }
        let lastLine = prefix.split(separator: 0x0A, omittingEmptySubsequences: false).last ?? []
        return SourceLocation(file: base.file, line: base.line + newlines, column: lastLine.count + 1)
    }
}
