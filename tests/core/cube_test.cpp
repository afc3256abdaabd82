// SPDX-License-Identifier: MIT
// The in-memory cube must give what SQL gives, for every filter it claims to answer: checked on
// the generated sample workspace plus every export sample of tests/data, filter by filter.
#include "cube.h"
#include "filteroption.h"
#include "importer.h"
#include "sendcounts.h"
#include "testsupport.h"
#include "triage.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

namespace
{

using testsupport::classifier;
using testsupport::TempWorkspace;

const std::filesystem::path kData = BT_TEST_DATA;

class CubeTest : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        s_ws = new TempWorkspace;
        bt::Workspace ws(s_ws->path.string());
        const auto ses = std::filesystem::temp_directory_path() / ("bt-cube-" + std::to_string(::getpid()) + ".jsonl");
        ASSERT_EQ(std::system((std::string(BT_SAMPLEGEN) + " --ses '" + ses.string() + "'").c_str()), 0);
        bt::importPath(ws, ses.string(), classifier());
        std::filesystem::remove(ses);
        // Other sources too: no deliveries in some, odd fields, rejects.
        for (const char* f : {"sendgrid-bounces.csv", "postfix-mail.log", "exim-mainlog", "mailgun-events.json",
                              "postmark-bounces.json", "m365-trace-detail.csv"})
            bt::importPath(ws, (kData / f).string(), classifier());
        // Bounce emails, whose delivery notices record no sends; and send counts the user gave,
        // the basis of their groups' rates in both engines.
        bt::importPath(ws, (std::filesystem::path(BT_RESOURCES_DIR) / "sample" / "bounce-sample.eml").string(),
                       classifier());
        std::istringstream providers("provider,sent\nYahoo,5000\nMicrosoft 365 / Outlook.com,80000\n");
        bt::storeSendCounts(ws, bt::readSendCounts(providers).counts);
        std::istringstream days("day,sent\n2026-03-09,90000\n");
        bt::storeSendCounts(ws, bt::readSendCounts(days).counts);
    }
    static void TearDownTestSuite()
    {
        delete s_ws;
        s_ws = nullptr;
    }
    static inline TempWorkspace* s_ws = nullptr;
};

void expectSameGroups(const std::vector<bt::GroupRow>& sql, const std::vector<bt::GroupRow>& cube,
                      const std::string& what)
{
    ASSERT_EQ(sql.size(), cube.size()) << what;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        EXPECT_EQ(sql[i].key, cube[i].key) << what << " row " << i;
        EXPECT_EQ(sql[i].bounces, cube[i].bounces) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].deferrals, cube[i].deferrals) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].deliveries, cube[i].deliveries) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].complaints, cube[i].complaints) << what << " " << sql[i].key;
        EXPECT_DOUBLE_EQ(sql[i].rate, cube[i].rate) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].rateBasis, cube[i].rateBasis) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].sent, cube[i].sent) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].rateBounces, cube[i].rateBounces) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].outsideBasis, cube[i].outsideBasis) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].level, cube[i].level) << what;
        EXPECT_EQ(sql[i].families, cube[i].families) << what << " " << sql[i].key;
        EXPECT_EQ(sql[i].templateId, cube[i].templateId) << what << " " << sql[i].key;
    }
}

std::vector<bt::EventFilter> filters()
{
    std::vector<bt::EventFilter> out(1);
    auto add = [&](auto change) {
        bt::EventFilter f;
        change(f);
        out.push_back(f);
    };
    add([](auto& f) { f.providers = {"Gmail"}; });
    add([](auto& f) { f.providers = {"(none)"}; });
    add([](auto& f) { f.providers = {"Microsoft 365 / Outlook.com"}, f.families = {"reputation"}; });
    add([](auto& f) { f.basicCode = 550; });
    add([](auto& f) { f.enhancedCode = "5.7"; });
    add([](auto& f) { f.enhancedCode = "5.1.1"; });
    add([](auto& f) { f.spamRelated = "yes"; });
    add([](auto& f) { f.eventTypes = {"deferral"}; });
    add([](auto& f) { f.eventTypes = {"bounce", "complaint"}; });
    add([](auto& f) { f.reasons = {"userunknown"}; });
    add([](auto& f) { f.domains = {"gmail.com", "yahoo.com"}; });
    add([](auto& f) { f.from = "2026-03-09T00:00:00Z", f.to = "2026-03-10T00:00:00Z"; });
    add([](auto& f) { f.from = "2026-03-09T10", f.families = {"reputation"}; });
    add([](auto& f) { f.to = "2026-03-05"; });
    add([](auto& f) { f.templateId = 3; });
    add([](auto& f) { f.campaigns = {"(none)"}, f.basicCode = 554; });
    return out;
}

TEST_F(CubeTest, AnswersWhatSqlAnswers)
{
    bt::Workspace ws(s_ws->path.string());
    const auto cube = bt::EventCube::build(ws);
    EXPECT_EQ(cube.events(), ws.eventCount());
    EXPECT_LT(cube.cells(), static_cast<std::size_t>(cube.events()));
    int checked = 0;
    const auto given = bt::sendCounts(ws);
    ASSERT_EQ(given.size(), 3u);
    std::map<std::string, int> bases; // every basis is met on the way
    for (const auto& f : filters()) {
        ASSERT_TRUE(cube.answers(f)) << bt::filterSql(f).population << " / " << bt::filterSql(f).bounce;
        const std::string what = bt::filterSql(f).population + " / " + bt::filterSql(f).bounce;
        for (auto by : {bt::GroupBy::Provider, bt::GroupBy::Domain, bt::GroupBy::Ip, bt::GroupBy::Campaign,
                        bt::GroupBy::Template, bt::GroupBy::Family, bt::GroupBy::Day, bt::GroupBy::Hour}) {
            auto sql = bt::groupReport(ws, by, f);
            for (auto& r : sql)
                r.liftedLater = 0; // the cube leaves lifted-later to SQL
            expectSameGroups(sql, cube.groupReport(by, f, given), what);
            for (const auto& r : sql)
                ++bases[r.rateBasis];
            ++checked;
        }
        for (bool hourly : {true, false}) {
            const auto sql = bt::timeSeries(ws, f, hourly);
            const auto mem = cube.timeSeries(f, hourly);
            ASSERT_EQ(sql.size(), mem.size()) << what;
            for (std::size_t i = 0; i < sql.size(); ++i) {
                EXPECT_EQ(sql[i].bucket, mem[i].bucket) << what;
                EXPECT_EQ(sql[i].bounces, mem[i].bounces) << what << " " << sql[i].bucket;
                EXPECT_EQ(sql[i].deliveries, mem[i].deliveries) << what << " " << sql[i].bucket;
                EXPECT_EQ(sql[i].families, mem[i].families) << what << " " << sql[i].bucket;
            }
        }
        EXPECT_EQ(bt::preferHourly(ws, f), cube.preferHourly(f)) << what;
    }
    EXPECT_GT(checked, 100);
    EXPECT_GT(bases["sent"], 0);
    EXPECT_GT(bases["given"], 0);
    EXPECT_GT(bases["share"], 0);

    // Incidents under every filter: its population is the traffic walked, its bounce fields the
    // bounces that count.
    std::size_t spikes = 0;
    for (const auto& f : filters()) {
        const std::string what = bt::filterSql(f).population + " / " + bt::filterSql(f).bounce;
        for (auto by : {bt::GroupBy::Provider, bt::GroupBy::Ip})
            for (bool hourly : {true, false}) {
                const auto sql = bt::incidents(ws, by, f, hourly);
                const auto mem = cube.incidents(by, f, hourly);
                ASSERT_EQ(sql.size(), mem.size()) << what;
                spikes += sql.size();
                for (std::size_t i = 0; i < sql.size(); ++i) {
                    EXPECT_EQ(sql[i].key, mem[i].key) << what;
                    EXPECT_EQ(sql[i].bucket, mem[i].bucket) << what;
                    EXPECT_EQ(sql[i].end, mem[i].end) << what;
                    EXPECT_EQ(sql[i].family, mem[i].family) << what;
                    EXPECT_EQ(sql[i].bounces, mem[i].bounces) << what;
                    EXPECT_DOUBLE_EQ(sql[i].rate, mem[i].rate) << what;
                    EXPECT_EQ(sql[i].lifted, mem[i].lifted) << what;
                }
            }
    }
    EXPECT_GT(spikes, 0u) << "the sample's spikes are met under some filters";
}

/// The CLI's `report --json` rows for a grouping and filter options.
std::vector<nlohmann::json> cliReport(const std::string& workspace, bt::GroupBy by,
                                      const std::vector<std::string>& options)
{
    std::string cmd = std::string(BT_CLI) + " report --json --by " + std::string(bt::groupName(by)) + " --workspace '"
        + workspace + "'";
    for (const auto& o : options)
        cmd += " --filter '" + o + "'";
    std::vector<nlohmann::json> rows;
    const auto run = testsupport::shell(cmd);
    EXPECT_EQ(run.exitCode, 0) << cmd << "\n" << run.out;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty())
            rows.push_back(nlohmann::json::parse(line));
    return rows;
}

TEST_F(CubeTest, TheCliTheGroupsTheChartsAndTheReportGiveTheSameNumbers)
{
    // One filter, one answer: the CLI's report (a process of its own), the Groups view's and the
    // charts' Triage (from the cube), the printable report's, and SQL alone, under every filter
    // of filters() and every grouping.
    bt::Workspace ws(s_ws->path.string());
    bt::Triage::saveCache(ws); // as an import does: each CLI run starts from the saved cube
    bt::Triage window; // the window's: answers from the cube
    bt::Triage sqlOnly(false);
    int compared = 0;
    for (const auto& f : filters()) {
        const std::string what = bt::filterSql(f).population + " / " + bt::filterSql(f).bounce;
        const auto chart = window.charts(ws, f);
        const auto report = window.report(ws, f);
        for (bt::GroupBy by : bt::groupings()) {
            const auto groups = window.groups(ws, by, f);
            const auto sql = sqlOnly.groups(ws, by, f);
            expectSameGroups(sql, groups, what + " by " + std::string(bt::groupName(by)));
            for (std::size_t i = 0; i < sql.size() && i < groups.size(); ++i)
                EXPECT_EQ(sql[i].liftedLater, groups[i].liftedLater) << what << " " << sql[i].key;
            if (by == bt::GroupBy::Provider)
                expectSameGroups(groups, chart.providers, what + ": the provider chart");
            if (by == bt::GroupBy::Template)
                expectSameGroups(groups, chart.templates, what + ": the template chart");
            if (const auto in = report.groups.find(by); in != report.groups.end())
                expectSameGroups(groups, in->second, what + ": the printed report");
            if (f.templateId)
                continue; // chosen by clicking a template: no CLI option names it
            const auto cli = cliReport(s_ws->path.string(), by, bt::filterOptions(f));
            ASSERT_EQ(cli.size(), groups.size()) << what << " by " << bt::groupName(by);
            for (std::size_t i = 0; i < cli.size(); ++i) {
                const auto& r = groups[i];
                EXPECT_EQ(cli[i]["key"], r.key) << what;
                EXPECT_EQ(cli[i]["bounces"], r.bounces) << what << " " << r.key;
                EXPECT_EQ(cli[i]["deferrals"], r.deferrals) << what << " " << r.key;
                EXPECT_EQ(cli[i]["deliveries"], r.deliveries) << what << " " << r.key;
                EXPECT_EQ(cli[i]["complaints"], r.complaints) << what << " " << r.key;
                EXPECT_DOUBLE_EQ(cli[i]["rate"].get<double>(), r.rate) << what << " " << r.key;
                EXPECT_EQ(cli[i]["rate_basis"], r.rateBasis) << what << " " << r.key;
                EXPECT_EQ(cli[i]["rate_bounces"], r.rateBounces) << what << " " << r.key;
                EXPECT_EQ(cli[i]["outside_basis"], r.outsideBasis) << what << " " << r.key;
                EXPECT_EQ(cli[i]["lifted_later"], r.liftedLater) << what << " " << r.key;
                const auto families = cli[i]["families"].get<std::map<std::string, std::int64_t>>();
                EXPECT_EQ(families, r.families) << what << " " << r.key;
            }
            ++compared;
        }
        // Incidents: the charts' (providers) and the report's are Triage's under the filter.
        const auto incidents = sqlOnly.incidents(ws, bt::GroupBy::Provider, f, true);
        ASSERT_EQ(chart.incidents.size(), incidents.size()) << what;
        for (std::size_t i = 0; i < incidents.size(); ++i) {
            EXPECT_EQ(chart.incidents[i].key, incidents[i].key) << what;
            EXPECT_EQ(chart.incidents[i].bucket, incidents[i].bucket) << what;
            EXPECT_EQ(chart.incidents[i].bounces, incidents[i].bounces) << what;
        }
        EXPECT_EQ(report.incidents.at(bt::GroupBy::Provider).size(),
                  sqlOnly.incidents(ws, bt::GroupBy::Provider, f, report.hourly).size())
            << what;
    }
    EXPECT_GE(compared, 15 * 8);
}

TEST_F(CubeTest, TriageBuildsACubeOnceAndLetsSqlAnswerWhatItCannot)
{
    bt::Workspace ws(s_ws->path.string());
    bt::Triage triage;
    bt::EventFilter subHour;
    subHour.from = "2026-03-09T10:30:00Z"; // between whole hours: the cube cannot answer
    const auto sql = bt::Triage(false).groups(ws, bt::GroupBy::Provider, subHour);
    expectSameGroups(sql, triage.groups(ws, bt::GroupBy::Provider, subHour), "sub-hour, first");
    expectSameGroups(sql, triage.groups(ws, bt::GroupBy::Provider, subHour), "sub-hour, again");
    EXPECT_EQ(triage.cubesBuilt(), 1u) << "the cube that cannot answer is kept, not built for every ask";
    EXPECT_FALSE(triage.quick(subHour));
    bt::EventFilter wholeHour;
    wholeHour.from = "2026-03-09T10:00:00Z";
    EXPECT_TRUE(triage.quick(wholeHour));
    triage.groups(ws, bt::GroupBy::Domain, wholeHour);
    EXPECT_EQ(triage.cubesBuilt(), 1u);
    triage.invalidate();
    EXPECT_FALSE(triage.quick(wholeHour));
    triage.groups(ws, bt::GroupBy::Domain, wholeHour);
    EXPECT_EQ(triage.cubesBuilt(), 2u) << "an import drops the cube";
}

TEST_F(CubeTest, ATextCubeAnswersThatSearch)
{
    bt::Workspace ws(s_ws->path.string());
    const auto cube = bt::EventCube::build(ws, "spamhaus");
    bt::EventFilter f;
    f.text = "spamhaus";
    ASSERT_TRUE(cube.answers(f));
    bt::EventFilter other;
    other.text = "mailbox";
    EXPECT_FALSE(cube.answers(other));
    ASSERT_GT(bt::countEvents(ws, f), 0);
    for (auto by : {bt::GroupBy::Provider, bt::GroupBy::Template, bt::GroupBy::Day}) {
        auto sql = bt::groupReport(ws, by, f);
        for (auto& r : sql)
            r.liftedLater = 0;
        expectSameGroups(sql, cube.groupReport(by, f, bt::sendCounts(ws)), "text spamhaus");
        f.providers = {"Microsoft 365 / Outlook.com"};
        sql = bt::groupReport(ws, by, f);
        for (auto& r : sql)
            r.liftedLater = 0;
        expectSameGroups(sql, cube.groupReport(by, f, bt::sendCounts(ws)), "text spamhaus, one provider");
        f.providers.clear();
    }
    const auto sql = bt::timeSeries(ws, f, false);
    const auto mem = cube.timeSeries(f, false);
    ASSERT_EQ(sql.size(), mem.size());
    for (std::size_t i = 0; i < sql.size(); ++i)
        EXPECT_EQ(sql[i].families, mem[i].families) << sql[i].bucket;
    // Without the text it is the plain cube.
    expectSameGroups(bt::EventCube::build(ws).groupReport(bt::GroupBy::Provider, {}),
                     cube.groupReport(bt::GroupBy::Provider, {}), "no text");
}

TEST_F(CubeTest, FilterChoicesFromTheCubeAreSqlsChoices)
{
    // The filter lists' values (most events first, ties in byte order, at most 500) come from the
    // cube in the window and from GROUP BY in SQL: the same lists, in the same order.
    bt::Workspace ws(s_ws->path.string());
    const auto sql = bt::Triage(false).choices(ws);
    bt::Triage triage;
    const auto cube = triage.choices(ws);
    EXPECT_EQ(triage.cubesBuilt(), 1u) << "answered from the cube";
    ASSERT_FALSE(sql.values.empty());
    EXPECT_EQ(sql.values, cube.values);
    EXPECT_EQ(sql.first, cube.first);
    EXPECT_EQ(sql.last, cube.last);
    std::size_t multi = 0;
    for (const auto& [field, values] : sql.values)
        multi += values.size() > 1;
    EXPECT_GE(multi, 5u) << "lists long enough for their order to matter";
    const auto all = bt::EventCube::build(ws);
    for (const char* field : {"provider", "domain", "reason"}) {
        EXPECT_EQ(all.distinctValues(field, 2), bt::distinctValues(ws, field, 2)) << field;
        EXPECT_EQ(all.distinctValues(field, 0), bt::distinctValues(ws, field, 0)) << field;
    }
    EXPECT_TRUE(all.distinctValues("time").empty()) << "not a list field";
    EXPECT_TRUE(all.distinctValues("no-such-field").empty());
}

TEST_F(CubeTest, ATextCubeFromThePlainCubeIsTheTextCubeBuiltWhole)
{
    // The window's search charts come from the cube of every event and a read of the matching
    // events only: every filter must give what a pass over every event gives.
    bt::Workspace ws(s_ws->path.string());
    const auto all = bt::EventCube::build(ws);
    for (const char* text : {"spamhaus", "mailbox", "5.7.1", "no such", "ZZZ-nothing"}) {
        const auto whole = bt::EventCube::build(ws, text);
        const auto fromAll = bt::EventCube::withText(ws, all, text);
        ASSERT_TRUE(fromAll) << text;
        EXPECT_EQ(fromAll->events(), whole.events()) << text;
        EXPECT_EQ(fromAll->cells(), whole.cells()) << text;
        for (auto f : filters()) {
            f.text = text;
            ASSERT_EQ(fromAll->answers(f), whole.answers(f)) << text;
            if (!whole.answers(f))
                continue;
            for (auto by : {bt::GroupBy::Provider, bt::GroupBy::Domain, bt::GroupBy::Template, bt::GroupBy::Day})
                expectSameGroups(whole.groupReport(by, f, bt::sendCounts(ws)),
                                 fromAll->groupReport(by, f, bt::sendCounts(ws)), std::string("text ") + text);
            const auto a = whole.timeSeries(f, true);
            const auto b = fromAll->timeSeries(f, true);
            ASSERT_EQ(a.size(), b.size()) << text;
            for (std::size_t i = 0; i < a.size(); ++i)
                EXPECT_EQ(a[i].families, b[i].families) << text << " " << a[i].bucket;
        }
    }
    // A plain cube that no longer counts the workspace's events is refused, not trusted.
    const auto stale = bt::EventCube::build(ws);
    const auto csv = std::filesystem::temp_directory_path() / ("bt-cube-more-" + std::to_string(::getpid()) + ".csv");
    std::ofstream(csv) << "created,email,reason,status,event\n"
                          "1772000000,new@brand-new-domain.example,550 5.7.1 listed at spamhaus,5.7.1,bounce\n";
    TempWorkspace t;
    {
        bt::Workspace other(t.path.string());
        bt::importPath(other, csv.string(), classifier());
        EXPECT_FALSE(bt::EventCube::withText(other, stale, "spamhaus")) << "a domain the plain cube never saw";
    }
    std::filesystem::remove(csv);
    EXPECT_FALSE(bt::EventCube::withText(ws, *bt::EventCube::withText(ws, all, "spamhaus"), "mailbox"))
        << "only from the cube of every event";
}

TEST_F(CubeTest, ASearchFromTheIndexAloneIsTheSearchThatReadsRows)
{
    // A search answered from the search index's ids and the cube's map of the events (no row
    // read): the same charts' cube as a pass over every event, the same table ids in the same
    // order as SQL, for every filter beside the text and both directions; the map saved with
    // the counts and read back gives the same.
    bt::Workspace ws(s_ws->path.string());
    const auto built = bt::EventCube::build(ws);
    ASSERT_TRUE(built.knowsEvents());
    const auto saved = bt::EventCube::fromBlob(built.toBlob());
    ASSERT_TRUE(saved);
    ASSERT_TRUE(saved->knowsEvents()) << "the map travels with the saved counts";
    int compared = 0;
    for (const char* text : {"spamhaus", "mailbox", "5.7.1", "no such", "ZZZ-nothing", "a", "55", "user unknown"}) {
        const auto ids = bt::matchingIds(ws, text);
        bt::EventFilter only;
        only.text = text;
        auto sqlIds = bt::eventIds(ws, only, bt::EventColumn::Recipient, false);
        std::sort(sqlIds.begin(), sqlIds.end());
        EXPECT_EQ(ids, sqlIds) << "the index's matches are SQL's: " << text;
        const auto whole = bt::EventCube::build(ws, text);
        for (const bt::EventCube* all : {&built, &*saved}) {
            const auto fromIds = all->withMatches(text, ids);
            ASSERT_TRUE(fromIds) << text;
            EXPECT_FALSE(fromIds->knowsEvents()) << "a text cube has no map of its own";
            EXPECT_EQ(fromIds->events(), whole.events()) << text;
            EXPECT_EQ(fromIds->cells(), whole.cells()) << text;
            for (auto f : filters()) {
                f.text = text;
                ASSERT_EQ(fromIds->answers(f), whole.answers(f)) << text;
                if (whole.answers(f)) {
                    for (auto by :
                         {bt::GroupBy::Provider, bt::GroupBy::Domain, bt::GroupBy::Template, bt::GroupBy::Day})
                        expectSameGroups(whole.groupReport(by, f, bt::sendCounts(ws)),
                                         fromIds->groupReport(by, f, bt::sendCounts(ws)), std::string("text ") + text);
                    const auto a = whole.timeSeries(f, true);
                    const auto b = fromIds->timeSeries(f, true);
                    ASSERT_EQ(a.size(), b.size()) << text;
                    for (std::size_t i = 0; i < a.size(); ++i)
                        EXPECT_EQ(a[i].families, b[i].families) << text << " " << a[i].bucket;
                }
                for (bool desc : {true, false}) {
                    const auto inOrder = all->inTimeOrder(f, ids, desc);
                    EXPECT_EQ(inOrder.has_value(), whole.answers(f)) << text;
                    if (!inOrder)
                        continue;
                    EXPECT_EQ(*inOrder, bt::eventIds(ws, f, bt::EventColumn::Time, desc))
                        << text << " / " << bt::filterSql(f).population << (desc ? " newest first" : " oldest first");
                    ++compared;
                }
            }
        }
    }
    EXPECT_GE(compared, 8 * 2 * 2 * 10);
    // The window's way: Triage gives SQL's ids, for any sort, and one search serves both.
    bt::Triage triage;
    for (auto f : filters()) {
        f.text = "spamhaus";
        for (auto sort : {bt::EventColumn::Time, bt::EventColumn::Recipient, bt::EventColumn::Reply})
            EXPECT_EQ(triage.eventIds(ws, f, sort, true), bt::eventIds(ws, f, sort, true))
                << bt::filterSql(f).population;
    }
    // An event the map never saw (imported since): refused, and SQL answers instead.
    bt::EventCube stale = bt::EventCube::build(ws);
    const std::vector<std::int64_t> past {1000000000};
    EXPECT_FALSE(stale.withMatches("spamhaus", past));
    EXPECT_FALSE(stale.inTimeOrder({}, past, true));
    EXPECT_FALSE(bt::EventCube::build(ws, "spamhaus").withMatches("mailbox", bt::matchingIds(ws, "mailbox")))
        << "only from the cube of every event";
}

TEST(CubeCache, SavedOnceReusedAndDroppedByAnImport)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    bt::importPath(ws, (kData / "sendgrid-bounces.csv").string(), classifier());
    bool cached = true;
    const auto built = bt::EventCube::buildCached(ws, &cached);
    EXPECT_FALSE(cached);
    EXPECT_EQ(testsupport::scalar(ws, "SELECT COUNT(*) FROM cube_cache"), 1);
    const auto again = bt::EventCube::buildCached(ws, &cached);
    EXPECT_TRUE(cached);
    expectSameGroups(built.groupReport(bt::GroupBy::Provider, {}), again.groupReport(bt::GroupBy::Provider, {}),
                     "from the cache");
    EXPECT_EQ(built.cells(), again.cells());
    EXPECT_EQ(built.events(), again.events());

    // An import clears it; the next cube counts the new events.
    bt::importPath(ws, (kData / "ses-notifications.jsonl").string(), classifier());
    EXPECT_EQ(testsupport::scalar(ws, "SELECT COUNT(*) FROM cube_cache"), 0);
    const auto after = bt::EventCube::buildCached(ws, &cached);
    EXPECT_FALSE(cached);
    EXPECT_EQ(after.events(), ws.eventCount());
    EXPECT_GT(after.events(), built.events());

    // Events changed behind its back (sqlite3 by hand): the fingerprint no longer matches.
    ws.db().exec("DELETE FROM events WHERE id = (SELECT MAX(id) FROM events)");
    const auto edited = bt::EventCube::buildCached(ws, &cached);
    EXPECT_FALSE(cached);
    EXPECT_EQ(edited.events(), ws.eventCount());

    // A damaged cache is rebuilt, not trusted: an older build's JSON, the saved bytes cut short
    // or with a dictionary id past its end.
    ws.db().exec("UPDATE cube_cache SET cube = '{\"v\": 1, \"cells\": [[1]]}'");
    const auto repaired = bt::EventCube::buildCached(ws, &cached);
    EXPECT_FALSE(cached);
    EXPECT_EQ(repaired.events(), ws.eventCount());
    const auto blob = repaired.toBlob();
    ASSERT_TRUE(bt::EventCube::fromBlob(blob));
    EXPECT_EQ(bt::EventCube::fromBlob(blob)->cells(), repaired.cells());
    for (std::size_t cut : {std::size_t(0), std::size_t(7), blob.size() / 2, blob.size() - 1})
        EXPECT_FALSE(bt::EventCube::fromBlob(std::string_view(blob).substr(0, cut))) << "cut at " << cut;
    EXPECT_FALSE(bt::EventCube::fromBlob(blob + "x")) << "bytes after the end";
    std::string wrongField = blob;
    wrongField[std::string_view(blob).find("provider")] = 'P';
    EXPECT_FALSE(bt::EventCube::fromBlob(wrongField)) << "saved with other fields";
    ws.db().exec("UPDATE cube_cache SET cube = substr(cube, 1, length(cube) - 3)");
    const auto again2 = bt::EventCube::buildCached(ws, &cached);
    EXPECT_FALSE(cached);
    EXPECT_EQ(again2.events(), ws.eventCount());
    EXPECT_EQ(testsupport::scalar(ws, "SELECT typeof(cube) = 'blob' FROM cube_cache"), 1);
}

TEST_F(CubeTest, DeclinesWhatItCannotAnswer)
{
    bt::Workspace ws(s_ws->path.string());
    const auto cube = bt::EventCube::build(ws);
    bt::EventFilter text;
    text.text = "spamhaus";
    EXPECT_FALSE(cube.answers(text));
    bt::EventFilter minutes;
    minutes.from = "2026-03-09T10:30:00Z";
    EXPECT_FALSE(cube.answers(minutes));
    minutes.from = "2026-03-09T10:00:00Z";
    EXPECT_TRUE(cube.answers(minutes));
    minutes.to = "2026-03-09T11:00:01Z";
    EXPECT_FALSE(cube.answers(minutes));
}

} // namespace
