// SPDX-License-Identifier: MIT
// Reads every bounce of ../shared/corpus/sisimai and compares with sisimai-expected.tsv,
// matching rows by file and recipient order. Prints the agreement per format family.
#include "bounce.h"
#include "classifier.h"
#include "knowledge.h"
#include "mailsource.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

namespace
{

// Floors (percent): status 97, reply code 97, reason 93, a result for 99 % of the labelled rows.
constexpr double kStatusFloor = 97.0;
constexpr double kReplyCodeFloor = 97.0;
constexpr double kReasonFloor = 93.0;
constexpr double kCoverageFloor = 99.0;

const std::filesystem::path kCorpus = std::filesystem::path(BT_SHARED_DIR) / "corpus";

struct Expected {
    std::string path;
    int index = 0;
    std::string status, replyCode, reason;
};

std::string familyOfFile(const std::string& path)
{
    // maildir/bsd/lhost-postfix-01.eml → lhost-postfix
    auto name = std::filesystem::path(path).stem().string();
    const auto dash = name.rfind('-');
    return dash == std::string::npos ? name : name.substr(0, dash);
}

std::shared_ptr<const bt::Classifier> classifier()
{
    static auto c = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    return c;
}

struct Tally {
    int rows = 0, found = 0, status = 0, code = 0, reason = 0;
};

} // namespace

TEST(Corpus, SisimaiAgreementPerFormatFamily)
{
    std::ifstream in(kCorpus / "sisimai-expected.tsv");
    ASSERT_TRUE(in) << "missing " << kCorpus / "sisimai-expected.tsv";
    std::vector<Expected> rows;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::vector<std::string> c;
        std::stringstream ss(line);
        for (std::string cell; std::getline(ss, cell, '\t');)
            c.push_back(cell);
        if (c.size() < 5)
            continue;
        rows.push_back({c[0], std::stoi(c[1]), c[2], c[3], c[4]});
    }
    ASSERT_GT(rows.size(), 400u);

    const bt::BounceReader reader(classifier());
    std::map<std::string, std::vector<bt::BounceRecord>> results;
    std::map<std::string, Tally> families;
    Tally all;
    std::ostringstream misses;
    for (const auto& e : rows) {
        if (!results.count(e.path)) {
            std::ifstream f(kCorpus / "sisimai" / e.path, std::ios::binary);
            std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            results[e.path] = reader.read(bytes).records;
        }
        const auto& recs = results[e.path];
        auto& t = families[familyOfFile(e.path)];
        ++t.rows;
        ++all.rows;
        if (static_cast<std::size_t>(e.index) > recs.size()) {
            misses << "  " << e.path << " #" << e.index << ": no result (want " << e.status << " " << e.replyCode << " "
                   << e.reason << ")\n";
            continue;
        }
        const auto& r = recs[static_cast<std::size_t>(e.index - 1)];
        const std::string code = r.basicCode ? std::to_string(*r.basicCode) : std::string();
        const bool okStatus = r.enhancedCode == e.status;
        const bool okCode = code == e.replyCode;
        const bool okReason = r.diagnosis.reason == e.reason;
        ++t.found;
        ++all.found;
        t.status += okStatus;
        all.status += okStatus;
        t.code += okCode;
        all.code += okCode;
        t.reason += okReason;
        all.reason += okReason;
        if (!okStatus || !okCode || !okReason)
            misses << "  " << e.path << " #" << e.index << ": want " << e.status << " " << e.replyCode << " "
                   << e.reason << ", got " << r.enhancedCode << " " << code << " " << r.diagnosis.reason << " ["
                   << r.format << "] " << r.replyText.substr(0, 100) << "\n";
    }
    auto pct = [](int n, int d) { return d ? 100.0 * n / d : 0.0; };
    std::cout << std::fixed << std::setprecision(1) << std::left << std::setw(24) << "family" << std::right
              << std::setw(6) << "rows" << std::setw(9) << "result" << std::setw(9) << "status" << std::setw(9)
              << "code" << std::setw(9) << "reason"
              << "\n";
    for (const auto& [name, t] : families)
        std::cout << std::left << std::setw(24) << name << std::right << std::setw(6) << t.rows << std::setw(9)
                  << pct(t.found, t.rows) << std::setw(9) << pct(t.status, t.rows) << std::setw(9)
                  << pct(t.code, t.rows) << std::setw(9) << pct(t.reason, t.rows) << "\n";
    std::cout << std::left << std::setw(24) << "ALL" << std::right << std::setw(6) << all.rows << std::setw(9)
              << pct(all.found, all.rows) << std::setw(9) << pct(all.status, all.rows) << std::setw(9)
              << pct(all.code, all.rows) << std::setw(9) << pct(all.reason, all.rows) << "\n";
    if (std::getenv("BT_CORPUS_MISSES"))
        std::cout << "misses:\n" << misses.str();
    EXPECT_GE(pct(all.found, all.rows), kCoverageFloor);
    EXPECT_GE(pct(all.status, all.rows), kStatusFloor);
    EXPECT_GE(pct(all.code, all.rows), kReplyCodeFloor);
    EXPECT_GE(pct(all.reason, all.rows), kReasonFloor);
}

TEST(Corpus, EveryFileGoesThroughWithoutCrash)
{
    // All folders and line endings, the mbox files and the 0-3 byte edge cases.
    const bt::BounceReader reader(classifier());
    std::size_t messages = 0, withRecords = 0, errors = 0;
    bt::forEachMessage(
        kCorpus / "sisimai",
        [&](bt::SourceMessage&& m) {
            ++messages;
            const auto outcome = reader.read(m.bytes);
            EXPECT_TRUE(outcome.warnings.empty()) << m.path << ": " << outcome.warnings.front();
            if (!outcome.records.empty())
                ++withRecords;
            else
                EXPECT_FALSE(outcome.error.empty()) << m.path << " gave neither records nor a reason";
            return true;
        },
        [&](const std::string&, const std::string&) { ++errors; });
    std::cout << messages << " messages, " << withRecords << " with records, " << errors << " unreadable files\n";
    EXPECT_GT(messages, 650u);
    EXPECT_EQ(errors, 0u);
}

TEST(Corpus, FuzzFindingsStayFixed)
{
    // Inputs the fuzzer once broke a format module with (tests/data/fuzz, see tests/fuzz/README.md).
    const bt::BounceReader reader(classifier());
    std::size_t n = 0;
    for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(BT_TEST_DATA) / "fuzz")) {
        std::ifstream in(f.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto out = reader.read(bytes);
        EXPECT_TRUE(out.warnings.empty()) << f.path() << ": " << out.warnings.front();
        EXPECT_TRUE(!out.records.empty() || !out.error.empty()) << f.path();
        ++n;
    }
    EXPECT_GT(n, 0u);
}
