// SPDX-License-Identifier: MIT
// Rates on each group's own basis (issue 12, item 2), on real exports: the share of sent over
// the rows of sources that record deliveries, the user's send counts, else the share of bounces.
// The expected numbers are counted here apart from bt::groupReport, by import format.
#include "analysis.h"
#include "cube.h"
#include "importer.h"
#include "sendcounts.h"
#include "testsupport.h"
#include "text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <numeric>
#include <sstream>

namespace
{

using testsupport::classifier;
using testsupport::scalar;
using testsupport::TempWorkspace;

const std::filesystem::path kData = BT_TEST_DATA;
const std::filesystem::path kCorpus = std::filesystem::path(BT_SHARED_DIR) / "corpus" / "sisimai" / "maildir";

std::map<std::string, bt::GroupRow> byKey(const std::vector<bt::GroupRow>& rows)
{
    std::map<std::string, bt::GroupRow> out;
    for (const auto& r : rows)
        out[r.key] = r;
    return out;
}

/// Events of `provider` of `type` whose import has a format in (or not in) the SQL list `formats`.
std::int64_t count(bt::Workspace& ws, const std::string& provider, const std::string& type, const std::string& formats,
                   bool in = true)
{
    return scalar(ws,
                  "SELECT COUNT(*) FROM events e JOIN imports i ON i.id = e.import_id WHERE "
                  "COALESCE(NULLIF(e.provider, ''), '(none)') = '"
                      + provider + "' AND e.event_type = '" + type + "' AND i.format " + (in ? "" : "NOT ") + "IN ("
                      + formats + ")");
}

double sumOfRates(const std::vector<bt::GroupRow>& rows)
{
    return std::accumulate(rows.begin(), rows.end(), 0.0, [](double a, const bt::GroupRow& r) { return a + r.rate; });
}

TEST(Rates, BounceEmailsAloneAreSharesOfBouncesWithoutLevels)
{
    if (!std::filesystem::is_directory(kCorpus / "bsd"))
        GTEST_SKIP() << "no corpus at " << kCorpus;
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    bt::importPath(ws, (kCorpus / "bsd").string(), classifier());
    // The folder holds delivery notices (DSN action delivered/relayed): they are deliveries, yet
    // no record of what was sent, so they must not make every provider "100 % act".
    ASSERT_GT(scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'delivered'"), 0);
    for (auto by : {bt::GroupBy::Provider, bt::GroupBy::Domain, bt::GroupBy::Day}) {
        const auto rows = bt::groupReport(ws, by);
        ASSERT_GT(rows.size(), 3u);
        for (const auto& r : rows) {
            EXPECT_EQ(r.rateBasis, "share") << r.key;
            EXPECT_TRUE(r.level.empty()) << r.key;
            EXPECT_LT(r.rate, 1.0) << r.key;
            EXPECT_EQ(r.sent, 0) << r.key;
        }
        EXPECT_NEAR(sumOfRates(rows), 1.0, 1e-9);
    }
}

/// A bounce-only SendGrid export beside a Postfix log and SES notifications, which record
/// deliveries.
struct Mixed {
    TempWorkspace t;
    bt::Workspace ws {t.path.string()};
    Mixed()
    {
        for (const char* f : {"sendgrid-bounces.csv", "postfix-mail.log", "ses-notifications.jsonl"})
            bt::importPath(ws, (kData / f).string(), classifier());
    }
};

TEST(Rates, AMixedGroupTakesItsRateOverTheSourcesThatRecordSends)
{
    Mixed m;
    auto& ws = m.ws;
    ASSERT_EQ(scalar(ws, "SELECT COUNT(DISTINCT format) FROM imports"), 3);
    const std::string recording = "'postfix_log', 'ses_json'";
    const auto rows = bt::groupReport(ws, bt::GroupBy::Provider);
    int mixed = 0, shares = 0, sent = 0;
    std::int64_t shareBounces = 0, allBounces = 0;
    for (const auto& r : rows)
        allBounces += r.bounces;
    for (const auto& r : rows) {
        const auto b = count(ws, r.key, "bounce", recording);
        const auto d = count(ws, r.key, "delivered", recording);
        const auto outside = count(ws, r.key, "bounce", recording, false);
        EXPECT_EQ(r.bounces, b + outside) << r.key;
        if (b + d > 0) {
            ++sent;
            EXPECT_EQ(r.rateBasis, "sent") << r.key;
            EXPECT_EQ(r.sent, b + d) << r.key;
            EXPECT_EQ(r.rateBounces, b) << r.key;
            EXPECT_EQ(r.outsideBasis, outside) << r.key;
            EXPECT_DOUBLE_EQ(r.rate, double(b) / double(b + d)) << r.key;
            EXPECT_EQ(r.level, bt::levelOf(r.rate)) << r.key;
            if (outside > 0 && d > 0) {
                ++mixed;
                // Not the old mixed figure: every bounce over the deliveries of other sources.
                EXPECT_LT(r.rate, double(b + outside) / double(b + outside + d)) << r.key;
            }
        } else {
            ++shares;
            shareBounces += r.bounces;
            EXPECT_EQ(r.rateBasis, "share") << r.key;
            EXPECT_TRUE(r.level.empty()) << r.key;
            EXPECT_EQ(r.outsideBasis, 0) << r.key;
            EXPECT_DOUBLE_EQ(r.rate, double(r.bounces) / double(allBounces)) << r.key;
        }
    }
    // The exports give all three kinds of group.
    EXPECT_GE(mixed, 1);
    EXPECT_GE(shares, 1);
    EXPECT_GE(sent, 2);
    EXPECT_GT(shareBounces, 0);

    // The cube, built from the same rows, says the same of every group.
    const auto cube = bt::EventCube::build(ws).groupReport(bt::GroupBy::Provider, {});
    ASSERT_EQ(cube.size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(cube[i].key, rows[i].key);
        EXPECT_EQ(cube[i].rateBasis, rows[i].rateBasis) << rows[i].key;
        EXPECT_EQ(cube[i].sent, rows[i].sent) << rows[i].key;
        EXPECT_EQ(cube[i].outsideBasis, rows[i].outsideBasis) << rows[i].key;
        EXPECT_DOUBLE_EQ(cube[i].rate, rows[i].rate) << rows[i].key;
    }
}

TEST(Rates, TemplatesFamiliesAndReasonsNeverCarryDeliveries)
{
    Mixed m;
    ASSERT_GT(scalar(m.ws, "SELECT COUNT(*) FROM events WHERE event_type = 'delivered'"), 0);
    const auto cube = bt::EventCube::build(m.ws);
    for (auto by : {bt::GroupBy::Template, bt::GroupBy::Family, bt::GroupBy::Reason}) {
        for (const auto& rows : {bt::groupReport(m.ws, by), cube.groupReport(by, {})}) {
            ASSERT_FALSE(rows.empty());
            for (const auto& r : rows) {
                EXPECT_EQ(r.deliveries, 0) << r.key;
                EXPECT_GT(r.bounces + r.deferrals + r.complaints, 0) << r.key;
                EXPECT_EQ(r.rateBasis, "share") << r.key;
                EXPECT_TRUE(r.level.empty()) << r.key;
            }
            EXPECT_NEAR(sumOfRates(rows), 1.0, 1e-9);
            // No family "unknown" made of deliveries.
            const auto keys = byKey(rows);
            if (by == bt::GroupBy::Family && keys.count("unknown")) {
                EXPECT_EQ(keys.at("unknown").deliveries, 0);
            }
        }
    }
}

TEST(Rates, SendCountsAreReadWithTheLineOfEachError)
{
    std::istringstream good("\xEF\xBB\xBFProvider;Sent\r\nGmail;12000\r\n\"Yahoo; AOL\";300\r\nGmail;15000\r\n\r\n");
    auto r = bt::readSendCounts(good, "esp.csv");
    EXPECT_TRUE(r.errors.empty());
    ASSERT_EQ(r.counts.size(), 2u);
    EXPECT_EQ(r.counts[0].kind, "provider");
    EXPECT_EQ(r.counts[0].key, "Gmail");
    EXPECT_EQ(r.counts[0].sent, 15000); // the same key twice: the last
    EXPECT_EQ(r.counts[1].key, "Yahoo; AOL");
    EXPECT_EQ(r.counts[1].source, "esp.csv");

    std::istringstream bad("day,sent\n2026-03-01,10\n2026-13-01,5\n01/03/2026,5\n2026-03-02,-4\n2026-03-03,12x\n"
                           "2026-03-04,1,2\n,7\n");
    r = bt::readSendCounts(bad);
    ASSERT_EQ(r.counts.size(), 1u);
    EXPECT_EQ(r.counts[0].key, "2026-03-01");
    ASSERT_EQ(r.errors.size(), 6u);
    EXPECT_EQ(r.errors[0].rfind("line 3: ", 0), 0u) << r.errors[0];
    EXPECT_NE(r.errors[0].find("not a day"), std::string::npos);
    EXPECT_EQ(r.errors[2].rfind("line 5: ", 0), 0u) << r.errors[2];
    EXPECT_NE(r.errors[2].find("whole number"), std::string::npos);
    EXPECT_NE(r.errors[4].find("2 fields"), std::string::npos) << r.errors[4];

    std::istringstream header("domain,sent\ngmail.com,5\n");
    r = bt::readSendCounts(header);
    EXPECT_TRUE(r.counts.empty());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("provider,sent"), std::string::npos);
    std::istringstream empty("");
    EXPECT_EQ(bt::readSendCounts(empty).errors.size(), 1u);
}

TEST(Rates, AGivenSendCountIsTheBasisOfItsGroupOnly)
{
    Mixed m;
    auto& ws = m.ws;
    const auto before = byKey(bt::groupReport(ws, bt::GroupBy::Provider));
    // A provider known only from the SendGrid export: a share until its sends are given.
    std::string bounceOnly;
    for (const auto& [k, r] : before)
        if (r.rateBasis == "share" && k != "(none)" && r.bounces > 0)
            bounceOnly = k;
    ASSERT_FALSE(bounceOnly.empty());
    const auto bounces = before.at(bounceOnly).bounces;

    std::istringstream csv("provider,sent\n" + bt::text::toLower(bounceOnly) + "," + std::to_string(bounces * 40)
                           + "\n");
    const auto read = bt::readSendCounts(csv, "esp.csv");
    ASSERT_EQ(read.counts.size(), 1u);
    EXPECT_EQ(bt::storeSendCounts(ws, read.counts), 1);
    ASSERT_EQ(bt::sendCounts(ws).size(), 1u);

    const auto after = byKey(bt::groupReport(ws, bt::GroupBy::Provider));
    const auto& g = after.at(bounceOnly);
    EXPECT_EQ(g.rateBasis, "given");
    EXPECT_EQ(g.sent, bounces * 40);
    EXPECT_DOUBLE_EQ(g.rate, 1.0 / 40.0);
    EXPECT_EQ(g.level, "watch");
    // The other groups keep their basis.
    for (const auto& [k, r] : before)
        if (k != bounceOnly) {
            EXPECT_EQ(after.at(k).rateBasis, r.rateBasis) << k;
        }
    // The cube, given the same counts, agrees.
    const auto cube = byKey(bt::EventCube::build(ws).groupReport(bt::GroupBy::Provider, {}, bt::sendCounts(ws)));
    EXPECT_EQ(cube.at(bounceOnly).rateBasis, "given");
    EXPECT_DOUBLE_EQ(cube.at(bounceOnly).rate, g.rate);

    // A count for the whole provider does not hold for a part of its traffic (one day, one
    // domain), nor for groups of another kind; bounce fields only narrow the numerator.
    bt::EventFilter day;
    day.from = "2000-01-01";
    EXPECT_NE(byKey(bt::groupReport(ws, bt::GroupBy::Provider, day))[bounceOnly].rateBasis, "given");
    bt::EventFilter family;
    family.families = {"address"};
    const auto narrowed = byKey(bt::groupReport(ws, bt::GroupBy::Provider, family));
    if (narrowed.count(bounceOnly)) {
        EXPECT_EQ(narrowed.at(bounceOnly).rateBasis, "given");
        EXPECT_EQ(narrowed.at(bounceOnly).sent, bounces * 40);
    }
    for (const auto& r : bt::groupReport(ws, bt::GroupBy::Domain))
        EXPECT_NE(r.rateBasis, "given") << r.key;

    // A count below what the workspace shows went out is raised to it: a rate stays <= 100 %.
    std::istringstream low("provider,sent\n" + bounceOnly + ",1\n");
    bt::storeSendCounts(ws, bt::readSendCounts(low).counts);
    const auto lowRow = byKey(bt::groupReport(ws, bt::GroupBy::Provider)).at(bounceOnly);
    EXPECT_EQ(lowRow.sent, lowRow.bounces + lowRow.deliveries);
    EXPECT_LE(lowRow.rate, 1.0);

    EXPECT_EQ(bt::clearSendCounts(ws), 1);
    EXPECT_EQ(byKey(bt::groupReport(ws, bt::GroupBy::Provider)).at(bounceOnly).rateBasis, "share");
}

TEST(Rates, SendCountsComeWithSchemaFiveAndAnOlderWorkspaceIsViewedWithout)
{
    TempWorkspace t;
    {
        bt::Workspace ws(t.path.string());
        ws.db().exec("DROP TABLE send_counts; PRAGMA user_version=4");
    }
    {
        bt::Workspace view(t.path.string(), bt::Workspace::Mode::View);
        EXPECT_EQ(view.schemaVersion(), 4);
        EXPECT_TRUE(bt::sendCounts(view).empty());
        EXPECT_TRUE(bt::groupReport(view, bt::GroupBy::Provider).empty());
    }
    bt::Workspace ws(t.path.string());
    EXPECT_EQ(ws.schemaVersion(), bt::Workspace::kSchemaVersion) << "the writer migrates it";
    std::istringstream csv("campaign,sent\nspring,100\n");
    EXPECT_EQ(bt::storeSendCounts(ws, bt::readSendCounts(csv).counts), 1);
    EXPECT_EQ(bt::sendCounts(ws).at(0).key, "spring");
}

} // namespace
