// SPDX-License-Identifier: MIT
// Every fuzz target's findings (tests/data/fuzz/<target>/) and hand-written seeds
// (tests/fuzz/seeds/<target>/) fed to the target's own entry function, the one the libFuzzer
// binary calls (tests/fuzz/entries.cpp): a finding stays fixed through the same code path. An
// entry aborts on a broken promise and lets an unexpected exception out, either of which fails
// the test.
#include "entries.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

namespace
{

std::size_t replayFolder(const bt::fuzz::Target& target, const std::filesystem::path& dir)
{
    std::size_t n = 0;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        return 0;
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(f.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        // In a buffer of exactly its size, as libFuzzer gives it: a read one byte past the end
        // (the reply parser's finding) then lands outside the allocation, which the asan preset
        // reports, instead of on std::string's terminating NUL.
        const auto exact = std::make_unique<char[]>(bytes.size());
        std::copy(bytes.begin(), bytes.end(), exact.get());
        SCOPED_TRACE(f.path().string());
        EXPECT_NO_THROW(target.entry(std::string_view(exact.get(), bytes.size())));
        ++n;
    }
    return n;
}

class FuzzFindings : public ::testing::TestWithParam<std::string>
{
};

TEST_P(FuzzFindings, ReplayThroughTheTargetsEntry)
{
    const auto* target = bt::fuzz::targetNamed(GetParam());
    ASSERT_NE(target, nullptr);
    const std::size_t findings = replayFolder(*target, std::filesystem::path(BT_TEST_DATA) / "fuzz" / GetParam());
    const std::size_t seeds = replayFolder(*target, std::filesystem::path(BT_FUZZ_SEEDS) / GetParam());
    std::cout << GetParam() << ": " << findings << " findings, " << seeds << " seeds replayed\n";
    if (findings + seeds == 0)
        GTEST_SKIP() << "no findings or seeds of its own (seeded from tests/data and the corpus by run-all.sh)";
}

std::vector<std::string> targetNames()
{
    std::vector<std::string> out;
    for (const auto& t : bt::fuzz::targets())
        out.emplace_back(t.name);
    return out;
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzFindings, ::testing::ValuesIn(targetNames()),
                         [](const auto& info) { return info.param; });

TEST(FuzzFindings, EveryFindingsFolderIsATarget)
{
    // A folder named after no target would never be replayed.
    for (const auto& d : std::filesystem::directory_iterator(std::filesystem::path(BT_TEST_DATA) / "fuzz"))
        EXPECT_NE(bt::fuzz::targetNamed(d.path().filename().string()), nullptr) << d.path();
}

} // namespace
