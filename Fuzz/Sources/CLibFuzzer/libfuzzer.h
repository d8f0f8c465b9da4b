// libFuzzer's driver, linked in by `-sanitize=fuzzer` (the Swift toolchain's
// libclang_rt.fuzzer). Each fuzz target's main calls it with its harness: SwiftPM gives every
// executable a main of its own, so libFuzzer's main cannot be used.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
