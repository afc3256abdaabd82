// SPDX-License-Identifier: MIT
// Real notices made by Postfix 3.7 and Exim 4.96 from Debian 12 for failures where no remote
// server replied (tests/data/mta-bounces/local): unknown local users, aliases and loops, DNS
// failures answered by a real unbound, connections refused or unreachable until the queue
// lifetime ended, TLS required but not offered, a full mailbox, a message over the next hop's
// size limit, failing pipe commands; and amavisd-new's own notices (Postfix's content filter) for
// a virus and a banned file name. The MTA's own words are all the reader has: it must name
// exactly the failed recipient, the status the notice gives, and the family (the reason too
// where only one is right) that expected.tsv holds (the README there says why for each).
#include "bounce.h"
#include "classifier.h"
#include "knowledge.h"
#include "testsupport.h"
#include "text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace
{

const std::filesystem::path kDir = std::filesystem::path(BT_TEST_DATA) / "mta-bounces" / "local";

struct Truth {
    std::string file, recipient, status, reason, family;
    bool exact = false; // only this reason is right; otherwise only its family is asserted
    std::string kase;
};

std::vector<Truth> truth()
{
    EXPECT_TRUE(std::filesystem::exists(kDir / "expected.tsv")) << "missing " << kDir / "expected.tsv";
    std::vector<Truth> rows;
    for (const auto& c : testsupport::tsvRows(kDir / "expected.tsv"))
        if (c.size() >= 7 && c[0] != "file")
            rows.push_back({c[0], c[1], c[2], c[3], c[4], c[5] == "1", c[6]});
    return rows;
}

const std::map<std::string, std::vector<bt::BounceRecord>>& readAll()
{
    static const auto all = [] {
        const bt::BounceReader reader(std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault()));
        std::map<std::string, std::vector<bt::BounceRecord>> m;
        for (const auto& t : truth()) {
            if (m.count(t.file))
                continue;
            std::ifstream f(kDir / t.file, std::ios::binary);
            const std::string bytes {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
            m[t.file] = reader.read(bytes).records;
        }
        return m;
    }();
    return all;
}

const bt::BounceRecord* recordFor(const std::string& file, const std::string& recipient)
{
    for (const auto& rec : readAll().at(file))
        if (bt::text::toLower(rec.recipient) == bt::text::toLower(recipient))
            return &rec;
    return nullptr;
}

} // namespace

TEST(MtaLocalFailures, EveryFailedRecipientAndNoOtherAddress)
{
    const auto rows = truth();
    ASSERT_GE(rows.size(), 32u);
    std::map<std::string, std::set<std::string>> want;
    std::set<std::string> mtas, cases;
    for (const auto& t : rows) {
        want[t.file].insert(bt::text::toLower(t.recipient));
        mtas.insert(t.file.substr(0, t.file.find('/')));
        cases.insert(t.file.substr(0, t.file.find('/')) + " " + t.kase);
    }
    EXPECT_EQ(mtas, (std::set<std::string> {"amavis", "exim", "postfix"}));
    EXPECT_EQ(cases.size(), 32u) << "one notice per MTA and case (15 cases each, 2 for amavisd-new)";
    for (const auto& [file, recipients] : want) {
        std::set<std::string> got;
        for (const auto& rec : readAll().at(file))
            got.insert(bt::text::toLower(rec.recipient));
        EXPECT_EQ(got, recipients) << file;
    }
}

TEST(MtaLocalFailures, TheStatusIsTheNoticesAndItsClassDecidesPermanence)
{
    for (const auto& t : truth()) {
        const auto* rec = recordFor(t.file, t.recipient);
        ASSERT_NE(rec, nullptr) << t.file << " " << t.recipient;
        EXPECT_EQ(rec->enhancedCode, t.status) << t.file << " " << t.recipient;
        EXPECT_FALSE(rec->statusDerived) << t.file << ": the notice states its status";
        // Postfix returns a message it gave up on with the last temporary status (4.4.1 after
        // "Connection refused", 4.7.4 for TLS, 4.3.0 for a command's EX_TEMPFAIL) and
        // "Action: failed": a failure, but not a permanent one.
        EXPECT_EQ(rec->dsnAction, "failed") << t.file;
        EXPECT_EQ(rec->diagnosis.permanent, t.status.front() == '5') << t.file << " " << t.status;
        if (t.status.front() == '4') {
            EXPECT_FALSE(rec->diagnosis.hardBounce) << t.file << ": a temporary status";
        }
    }
}

TEST(MtaLocalFailures, TheFamilyAndWhereOnlyOneIsRightTheReason)
{
    int exact = 0;
    for (const auto& t : truth()) {
        const auto* rec = recordFor(t.file, t.recipient);
        ASSERT_NE(rec, nullptr) << t.file << " " << t.recipient;
        EXPECT_EQ(rec->diagnosis.family, t.family) << t.file << " (" << t.kase << "): " << rec->diagnosis.reason;
        if (t.exact) {
            ++exact;
            EXPECT_EQ(rec->diagnosis.reason, t.reason) << t.file << " (" << t.kase << ")";
        }
    }
    EXPECT_GE(exact, 24);
}
