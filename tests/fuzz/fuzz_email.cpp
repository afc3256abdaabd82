// SPDX-License-Identifier: MIT
// libFuzzer target for the e-mail reader: MIME parsing, format modules, reply parsing and
// classification, on arbitrary bytes. See README.md beside this file.
#include "bounce.h"
#include "classifier.h"
#include "knowledge.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const bt::BounceReader reader(std::make_shared<bt::Classifier>(bt::KnowledgeBase::loadDefault()));
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto out = reader.read(bytes);
    // Every outcome either has records or says why not, and no format module threw.
    if ((out.records.empty() && out.error.empty()) || !out.warnings.empty())
        __builtin_trap();
    return 0;
}
