import Testing
@testable import Policy

@Test func moduleLoads() {}
