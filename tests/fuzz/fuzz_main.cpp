// SPDX-License-Identifier: MIT
// The libFuzzer main of every target: BT_FUZZ_TARGET names the entry (entries.cpp) this binary
// feeds. The replay test calls the same entry, so a finding replays through the same code.
#include "entries.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

#ifndef BT_FUZZ_TARGET
#error "BT_FUZZ_TARGET must name an entry of entries.cpp"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const auto* target = bt::fuzz::targetNamed(BT_FUZZ_TARGET);
    if (!target)
        bt::fuzz::fail("no fuzz entry called " BT_FUZZ_TARGET);
    target->entry(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
