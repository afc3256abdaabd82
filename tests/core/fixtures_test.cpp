// SPDX-License-Identifier: MIT
// Family agreement on the labelled real replies of ../shared/fixtures/replies.tsv.
#include "classifier.h"
#include "knowledge.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace
{

std::vector<std::string> splitTabs(const std::string& line)
{
    std::vector<std::string> out;
    std::string cell;
    std::istringstream ss(line);
    while (std::getline(ss, cell, '\t'))
        out.push_back(cell);
    return out;
}

} // namespace

TEST(Fixtures, RepliesTsvFamilyAgreement)
{
    const std::filesystem::path path = std::filesystem::path(BT_SHARED_DIR) / "fixtures" / "replies.tsv";
    std::ifstream in(path);
    ASSERT_TRUE(in) << path << " is missing: the tests need ../shared beside the clone";
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    std::string line;
    std::getline(in, line); // header
    int rows = 0, family = 0, reason = 0, spam = 0, action = 0;
    std::ostringstream misses;
    int lineNo = 1;
    while (std::getline(in, line)) {
        ++lineNo;
        const auto cols = splitTabs(line);
        if (cols.size() < 6)
            continue;
        ++rows;
        const auto d = c.diagnoseText(cols[1]);
        family += d.family == cols[3];
        reason += d.reason == cols[2];
        spam += d.spamRelated == cols[4];
        action += d.action == cols[5];
        if (d.family != cols[3])
            misses << "  line " << lineNo << ": want " << cols[3] << "/" << cols[2] << ", got " << d.family << "/"
                   << d.reason << " (" << (d.ruleIds.empty() ? "code" : d.ruleIds.front())
                   << "): " << cols[1].substr(0, 140) << "\n";
    }
    ASSERT_GT(rows, 100);
    auto pct = [&](int n) { return 100.0 * n / rows; };
    std::cout << std::fixed << std::setprecision(1) << "replies.tsv: " << rows << " rows; family " << pct(family)
              << "%, reason " << pct(reason) << "%, spam_related " << pct(spam) << "%, action " << pct(action) << "%\n"
              << misses.str();
    EXPECT_GE(pct(family), 95.0) << "family misses:\n" << misses.str();
}
