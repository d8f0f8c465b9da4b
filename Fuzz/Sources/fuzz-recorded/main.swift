import CLibFuzzer
import Foundation
import FuzzHarness

// libFuzzer with `RecordedHarness` (Fuzz/Harness) as the code under test; see Docs/Fuzzing.md.

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RecordedHarness.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

// SwiftPM links every executable's own main; it runs libFuzzer exactly as libFuzzer's would.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
