// SPDX-License-Identifier: MIT
// One entry function per fuzz target, shared by the libFuzzer binaries (fuzz_main.cpp) and the
// ctest that replays every finding (tests/core/fuzzreplay_test.cpp): a finding is replayed
// through exactly the code path the fuzzer took. See README.md beside this file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bt::fuzz
{

/// Feeds one input to the code under test. Returns normally for any input the code handles
/// (bad input included, when it is refused with a clear error); calls fail() when a promise is
/// broken. Crashes and sanitizer reports are the fuzzer's own findings.
using Entry = void (*)(std::string_view input);

struct Target {
    std::string_view name; ///< fuzz_<name> is the binary, tests/data/fuzz/<name>/ its findings
    Entry entry;
    std::string_view what; ///< what it feeds the input to, for the README and the test's output
};

/// Every target, in the order run-all.sh runs them.
const std::vector<Target>& targets();
/// The target called `name`, nullptr when there is none.
const Target* targetNamed(std::string_view name);

/// A broken promise: prints `why` and aborts, which libFuzzer records as a crash and the replay
/// test as a failure.
[[noreturn]] void fail(const std::string& why);

} // namespace bt::fuzz
