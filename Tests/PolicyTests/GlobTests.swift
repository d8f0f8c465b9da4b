import Policy
import Testing

/// `*` patterns of the catalog's authority grants, matched against `ce_source` and `ce_type`.
struct GlobTests {
    @Test func matchesLikeAWildcardPattern() {
        let cases: [(String, String, Bool)] = [
            ("plant/*", "plant/line-1", true), ("plant/*", "plant/", true), ("plant/*", "plan", false),
            ("plant/*/gateway-*", "plant/L1/gateway-7", true), ("plant/*/gateway-*", "plant/L1/gw-7", false),
            ("*.reading", "machine.vibration.reading", true), ("*.reading", "reading", false),
            ("a*b*c", "abc", true), ("a*b*c", "aXbYc", true), ("a*b*c", "acb", false), ("a*b*c", "abcb", false),
            ("a*bb*b", "abbb", true), ("a*bb*b", "abb", false), ("exact", "exact", true), ("exact", "exact!", false),
            ("*", "", true), ("**", "x", true),
        ]
        for (pattern, text, expected) in cases {
            #expect(Glob(pattern).matches(text) == expected, "\(pattern) ~ \(text)")
        }
    }

    @Test func aLongSegmentAgainstALongTextIsLinear() {
        // A literal segment of 4,000 bytes against 16 KiB of text that almost matches everywhere:
        // a naive search compared ~64 M bytes here.
        let glob = Glob("plant/*" + String(repeating: "a", count: 4_000) + "b*")
        #expect(!glob.matches("plant/" + String(repeating: "a", count: 16_384)))
        #expect(glob.matches("plant/" + String(repeating: "a", count: 16_384) + "b"))
    }
}
