// libyaml's event parser, the one Yams wraps. Yams keeps its event API private, and its
// composer resolves every alias while it builds the tree (and hashes aliased mapping keys
// recursively), so a "billion laughs" file costs exponential time before we could look at
// the tree. Walking the events first sees each anchor and alias once, in linear time.
import CYaml

/// Checks a Topics YAML text at the event level before Yams composes it: no anchors or
/// aliases beyond `InputLimits.maxYAMLAliases`, nesting within `maxYAMLDepth`, at most
/// `maxYAMLNodes` values. Syntax errors are left to the composer, which reports them with
/// the same position.
enum YAMLPreflight {
    struct Problem: Equatable {
        var line: Int
        var column: Int
        var message: String
        var hint: String
    }

    static func check(_ text: String) -> [Problem] {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in scan(buffer) }
    }

    private static func scan(_ buffer: UnsafeMutableBufferPointer<UInt8>) -> [Problem] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return [] }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)

        var problems: [Problem] = []
        var aliases = 0, depth = 0, nodes = 0
        var anchorReported = false
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else {
                // libyaml's own nesting bound (1000) trips first when its scanner reads ahead
                // through flow collections (`[[[[…`); report it as ours. Other syntax errors are
                // left to the composer.
                if let problem = parser.problem, String(cString: problem).hasPrefix("Maximum nesting level") {
                    problems.append(depthProblem(line: Int(clamping: parser.problem_mark.line) + 1, column: Int(clamping: parser.problem_mark.column) + 1))
                }
                return problems
            }
            defer { yaml_event_delete(&event) }
            let (line, column) = (Int(clamping: event.start_mark.line) + 1, Int(clamping: event.start_mark.column) + 1)
            var anchor: UnsafeMutablePointer<yaml_char_t>?
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return problems
            case YAML_ALIAS_EVENT:
                aliases += 1
                if aliases > InputLimits.maxYAMLAliases {
                    problems.append(Problem(line: line, column: column, message: "YAML alias '*\(name(event.data.alias.anchor))' is refused: Topics files allow \(InputLimits.maxYAMLAliases) aliases (InputLimits.maxYAMLAliases)",
                                            hint: "write the value out in full; aliases let a small file expand exponentially (\"billion laughs\")"))
                    return problems
                }
                nodes += 1
            case YAML_SCALAR_EVENT:
                anchor = event.data.scalar.anchor
                nodes += 1
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                anchor = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                nodes += 1
                depth += 1
                if depth > InputLimits.maxYAMLDepth {
                    problems.append(depthProblem(line: line, column: column))
                    return problems
                }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                depth -= 1
            default:
                break
            }
            if let anchor, InputLimits.maxYAMLAliases == 0, !anchorReported {
                anchorReported = true
                problems.append(Problem(line: line, column: column, message: "YAML anchor '&\(name(anchor))' is refused: Topics files allow no anchors or aliases (InputLimits.maxYAMLAliases)",
                                        hint: "remove the anchor and write repeated values out in full"))
            }
            if nodes > InputLimits.maxYAMLNodes {
                problems.append(Problem(line: line, column: column, message: "more than \(InputLimits.maxYAMLNodes) YAML values in one file (InputLimits.maxYAMLNodes)",
                                        hint: "split the file up or remove unused content"))
                return problems
            }
        }
    }

    private static func depthProblem(line: Int, column: Int) -> Problem {
        Problem(line: line, column: column, message: "YAML nested deeper than \(InputLimits.maxYAMLDepth) levels (InputLimits.maxYAMLDepth)",
                hint: "flatten the structure; Topics files need about 10 levels")
    }

    private static func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String {
        guard let pointer else { return "" }
        return String(String(cString: pointer).prefix(40))
    }
}
