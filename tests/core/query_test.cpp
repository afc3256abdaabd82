// SPDX-License-Identifier: MIT
// The query layer the triage window and the CLI share: filters, pages, details, time series and
// filtered group reports, checked against counts made apart from it on a real workspace file.
#include "analysis.h"
#include "importer.h"
#include "query.h"
#include "replyparser.h"
#include "sqlite.h"
#include "testsupport.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace
{

using testsupport::classifier;
using testsupport::TempWorkspace;

/// A small, fully known workspace: three providers, bounces of several families, deliveries.
struct Fixture {
    TempWorkspace t;
    bt::Workspace ws {t.path.string()};
    std::int64_t importId = ws.beginImport("fixture", 0, "", "test");
    int n = 0;

    void add(const std::string& type, const std::string& provider, const std::string& domain, const std::string& ts,
             const std::string& reply, const std::string& ip = "192.0.2.1")
    {
        bt::Event e;
        e.eventType = type;
        e.provider = provider;
        e.recipientDomain = domain;
        e.recipient = "user" + std::to_string(n) + "@" + domain;
        e.timestamp = ts;
        e.sendingIp = ip;
        e.replyText = reply;
        if (!reply.empty()) {
            const auto r = bt::parseReply(reply);
            e.basicCode = r.basicCode;
            e.enhancedCode = r.enhancedCode;
            e.diagnosis = classifier().diagnose(r);
            e.templateText = reply.substr(0, 12);
        }
        e.dedupKey = std::to_string(n++);
        ASSERT_EQ(ws.addEvent(importId, e), bt::Workspace::Added::Imported);
    }
};

const std::string kUnknown = "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown";
const std::string kSpamhaus = "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org";
const std::string kRate = "421 4.7.0 Try again later, closing connection (rate limited)";

void fill(Fixture& f)
{
    for (int i = 0; i < 90; ++i)
        f.add("delivered", "Gmail", "gmail.com", "2026-03-01T0" + std::to_string(i % 10) + ":00:00Z", "");
    for (int i = 0; i < 6; ++i)
        f.add("bounce", "Gmail", "gmail.com", "2026-03-01T03:1" + std::to_string(i) + ":00Z", kUnknown);
    for (int i = 0; i < 4; ++i)
        f.add("bounce", "Gmail", "gmail.com", "2026-03-01T04:1" + std::to_string(i) + ":00Z", kSpamhaus, "192.0.2.9");
    for (int i = 0; i < 30; ++i)
        f.add("delivered", "Yahoo", "yahoo.com", "2026-03-01T05:00:0" + std::to_string(i % 10) + "Z", "");
    for (int i = 0; i < 10; ++i)
        f.add("bounce", "Yahoo", "yahoo.com", "2026-03-01T02:0" + std::to_string(i) + ":00Z", kSpamhaus);
    f.add("deferral", "Yahoo", "yahoo.com", "2026-03-01T02:30:00Z", kRate);
}

TEST(Query, SearchFindsAPartOfAWordAndTakesQuotesAsCharacters)
{
    // Microsoft's "(AS3150)" holds S3150; whole-word search missed it (issue 12).
    Fixture f;
    f.add("bounce", "Microsoft", "outlook.com", "2026-03-01T10:00:00Z",
          "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service "
          "provider since part of their network is on our block list (AS3150).");
    f.add("bounce", "Microsoft", "outlook.com", "2026-03-01T10:05:00Z",
          "550 5.7.1 Unfortunately, messages from [192.0.2.2] weren't sent (S3150). \"Quoted\" words here.");
    f.add("bounce", "Gmail", "gmail.com", "2026-03-01T10:10:00Z", kUnknown);
    bt::EventFilter text;
    text.text = "S3150";
    EXPECT_EQ(bt::countEvents(f.ws, text), 2);
    text.text = "s3150 block";
    EXPECT_EQ(bt::countEvents(f.ws, text), 1);
    text.text = "\"Quoted\"";
    EXPECT_EQ(bt::countEvents(f.ws, text), 1);
    text.text = "\"Quoted";
    EXPECT_EQ(bt::countEvents(f.ws, text), 1) << "an unbalanced quote is a character, not an error";
    text.text = "(S3";
    EXPECT_EQ(bt::countEvents(f.ws, text), 1);
    text.text = "5.7";
    EXPECT_EQ(bt::countEvents(f.ws, text), 2) << "three characters: through the trigram index";
    text.text = "7.";
    EXPECT_EQ(bt::countEvents(f.ws, text), 2) << "two characters: through LIKE";
    text.text = "1.";
    EXPECT_EQ(bt::countEvents(f.ws, text), 1) << "5.1.1 holds it, 5.7.1 and 192.0.2.1] do not";
}

TEST(Query, AnOlderWorkspacesSearchIndexIsRebuiltForSubstrings)
{
    // A workspace of schema 3 indexed replies by whole words: opening it to write (an import)
    // rebuilds the index with trigrams, and the events already there are found by a part of a word.
    TempWorkspace t;
    {
        bt::Workspace ws(t.path.string());
        const auto csv = t.path.string() + ".csv";
        std::ofstream(csv) << "created,email,reason,status,event\n"
                              "1700000000,a@outlook.com,550 5.7.1 on our block list (AS3150).,5.7.1,bounce\n";
        const auto r = bt::importPath(ws, csv, classifier());
        std::filesystem::remove(csv);
        ASSERT_EQ(r.counts.imported, 1) << r.error;
    }
    {
        bt::sql::Database db(t.path.string());
        db.exec("DROP TRIGGER events_fts_insert; DROP TRIGGER events_fts_delete; DROP TRIGGER events_fts_update; "
                "DROP TABLE events_fts; CREATE VIRTUAL TABLE events_fts USING fts5(reply_text, content='events', "
                "content_rowid='id'); INSERT INTO events_fts(events_fts) VALUES ('rebuild'); "
                "CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN INSERT INTO events_fts(rowid, "
                "reply_text) VALUES (new.id, new.reply_text); END; PRAGMA user_version=3");
    }
    bt::EventFilter text;
    text.text = "S3150";
    {
        bt::Workspace old(t.path.string(), bt::Workspace::Mode::View);
        EXPECT_EQ(old.schemaVersion(), 3) << "viewing never migrates";
        EXPECT_EQ(bt::countEvents(old, text), 0) << "whole words only before";
    }
    bt::Workspace ws(t.path.string());
    EXPECT_EQ(ws.schemaVersion(), bt::Workspace::kSchemaVersion);
    EXPECT_EQ(bt::countEvents(ws, text), 1);
}

TEST(Query, FilterCountsMatchTheRowsPagedThrough)
{
    Fixture f;
    fill(f);
    EXPECT_EQ(bt::countEvents(f.ws, {}), 141);

    bt::EventFilter gmail;
    gmail.providers = {"Gmail"};
    EXPECT_EQ(bt::countEvents(f.ws, gmail), 100);
    gmail.families = {"address"};
    EXPECT_EQ(bt::countEvents(f.ws, gmail), 6);

    // Paging in pages of 7 over a filtered, sorted set visits each row exactly once.
    bt::EventFilter bounces;
    bounces.eventTypes = {"bounce"};
    std::set<std::int64_t> seen;
    std::string last;
    for (std::int64_t off = 0;; off += 7) {
        const auto page = bt::eventPage(f.ws, bounces, bt::EventColumn::Time, false, off, 7);
        for (const auto& r : page) {
            EXPECT_EQ(r.eventType, "bounce");
            EXPECT_GE(r.timestamp, last);
            last = r.timestamp;
            EXPECT_TRUE(seen.insert(r.id).second);
        }
        if (page.size() < 7)
            break;
    }
    EXPECT_EQ(static_cast<std::int64_t>(seen.size()), bt::countEvents(f.ws, bounces));
    EXPECT_EQ(seen.size(), 20u);

    // Descending by provider: Yahoo first.
    const auto desc = bt::eventPage(f.ws, {}, bt::EventColumn::Provider, true, 0, 1);
    ASSERT_EQ(desc.size(), 1u);
    EXPECT_EQ(desc[0].provider, "Yahoo");
}

// The id snapshot of a full-text search (the table's way under a search) is the paged result,
// whole: same rows, same order, for every column and direction, and the rows read back by id
// come in the order asked.
TEST(Query, IdSnapshotIsThePagedResultInOneList)
{
    Fixture f;
    fill(f);
    for (const char* text : {"5.1.1", "user", "550"}) {
        bt::EventFilter filter;
        filter.text = text;
        for (int c = 0; c < bt::kEventColumnCount; ++c)
            for (const bool desc : {false, true}) {
                const auto column = static_cast<bt::EventColumn>(c);
                SCOPED_TRACE(std::string(text) + " column " + std::to_string(c) + (desc ? " desc" : " asc"));
                const auto ids = bt::eventIds(f.ws, filter, column, desc);
                EXPECT_EQ(static_cast<std::int64_t>(ids.size()), bt::countEvents(f.ws, filter));
                std::vector<std::int64_t> paged;
                for (std::int64_t off = 0;; off += 5) {
                    const auto page = bt::eventPage(f.ws, filter, column, desc, off, 5);
                    for (const auto& r : page)
                        paged.push_back(r.id);
                    if (page.size() < 5)
                        break;
                }
                EXPECT_EQ(ids, paged);
            }
        const auto ids = bt::eventIds(f.ws, filter, bt::EventColumn::Recipient, true);
        ASSERT_GE(ids.size(), 3u) << text;
        const std::vector<std::int64_t> some {ids[2], ids[0], 999999, ids[1]};
        const auto rows = bt::eventRows(f.ws, some);
        ASSERT_EQ(rows.size(), 3u) << "an id that does not exist is left out";
        EXPECT_EQ(rows[0].id, ids[2]);
        EXPECT_EQ(rows[1].id, ids[0]);
        EXPECT_EQ(rows[2].id, ids[1]);
        EXPECT_EQ(rows[1].recipient,
                  bt::eventPage(f.ws, filter, bt::EventColumn::Recipient, true, 0, 1).at(0).recipient);
    }
    EXPECT_TRUE(bt::eventRows(f.ws, {}).empty());
}

TEST(Query, CodesTimeTextAndSpamFilters)
{
    Fixture f;
    fill(f);
    bt::EventFilter code;
    code.basicCode = 554;
    EXPECT_EQ(bt::countEvents(f.ws, code), 14);
    bt::EventFilter cls;
    cls.enhancedCode = "5.7";
    EXPECT_EQ(bt::countEvents(f.ws, cls), 14);
    cls.enhancedCode = "5.1.1";
    EXPECT_EQ(bt::countEvents(f.ws, cls), 6);
    cls.enhancedCode = "5.1";
    EXPECT_EQ(bt::countEvents(f.ws, cls), 6);

    bt::EventFilter text;
    text.text = "spamhaus";
    EXPECT_EQ(bt::countEvents(f.ws, text), 14);
    text.text = "recipient address";
    EXPECT_EQ(bt::countEvents(f.ws, text), 6);
    text.text = "spam*";
    EXPECT_EQ(bt::countEvents(f.ws, text), 14);
    text.text = "5.7.1;("; // punctuation only: quoted, never an FTS syntax error
    EXPECT_NO_THROW(bt::countEvents(f.ws, text));
    // A part of a word, in any case: "SPAMHAU" and "amhaus" find what "spamhaus" finds.
    text.text = "SPAMHAU";
    EXPECT_EQ(bt::countEvents(f.ws, text), 14);
    text.text = "amhaus";
    EXPECT_EQ(bt::countEvents(f.ws, text), 14);
    // Quotes are characters, an unbalanced one too: no syntax error, and nothing found here.
    for (const char* q : {"\"spamhaus", "spam\"haus\"", "\"", "\"\"\""}) {
        text.text = q;
        EXPECT_NO_THROW(EXPECT_EQ(bt::countEvents(f.ws, text), 0)) << q;
    }
    // Words shorter than a trigram go through LIKE, with its wildcards taken literally.
    text.text = "ha"; // every Spamhaus reply holds it
    EXPECT_GE(bt::countEvents(f.ws, text), 14);
    text.text = "%";
    EXPECT_EQ(bt::countEvents(f.ws, text), 0);
    text.text = "_";
    EXPECT_EQ(bt::countEvents(f.ws, text), 0);

    bt::EventFilter spam;
    spam.spamRelated = "yes";
    EXPECT_EQ(bt::countEvents(f.ws, spam), 14);

    const auto [from, to] = bt::bucketRange("2026-03-01T04");
    EXPECT_EQ(from, "2026-03-01T04");
    EXPECT_EQ(to, "2026-03-01T05");
    bt::EventFilter hour;
    hour.from = from;
    hour.to = to;
    hour.eventTypes = {"bounce"};
    EXPECT_EQ(bt::countEvents(f.ws, hour), 4);
    EXPECT_EQ(bt::bucketRange("2026-12-31").second, "2027-01-01");
    EXPECT_TRUE(bt::bucketRange("garbage").first.empty());

    bt::EventFilter none;
    none.providers = {"(none)"};
    EXPECT_EQ(bt::countEvents(f.ws, none), 0);
}

TEST(Query, FilteredProviderRateDividesByThePopulation)
{
    Fixture f;
    fill(f);
    // Reputation (the Spamhaus replies) only: Gmail 4 of (10 bounces + 90 deliveries) = 4 %,
    // Yahoo 10 of (10 + 30) = 25 %.
    bt::EventFilter rep;
    rep.families = {"reputation"};
    const auto rows = bt::groupReport(f.ws, bt::GroupBy::Provider, rep);
    std::map<std::string, bt::GroupRow> by;
    for (const auto& r : rows)
        by[r.key] = r;
    ASSERT_TRUE(by.count("Gmail"));
    ASSERT_TRUE(by.count("Yahoo"));
    EXPECT_EQ(by["Gmail"].bounces, 4);
    EXPECT_EQ(by["Gmail"].deliveries, 90);
    EXPECT_DOUBLE_EQ(by["Gmail"].rate, 4.0 / 100.0);
    EXPECT_EQ(by["Gmail"].level, "act");
    EXPECT_EQ(by["Gmail"].families.size(), 1u);
    EXPECT_EQ(by["Gmail"].families["reputation"], 4);
    EXPECT_DOUBLE_EQ(by["Yahoo"].rate, 10.0 / 40.0);
    EXPECT_EQ(by["Yahoo"].rateBasis, "sent");
    // Largest first.
    EXPECT_EQ(rows.front().key, "Yahoo");

    // Unfiltered it is the plain bounce rate.
    for (const auto& r : bt::groupReport(f.ws, bt::GroupBy::Provider)) {
        if (r.key == "Gmail") {
            EXPECT_DOUBLE_EQ(r.rate, 10.0 / 100.0);
        }
    }

    // A population filter narrows deliveries as well: one sending IP.
    bt::EventFilter ip;
    ip.ips = {"192.0.2.9"};
    const auto ipRows = bt::groupReport(f.ws, bt::GroupBy::Provider, ip);
    ASSERT_EQ(ipRows.size(), 1u);
    EXPECT_EQ(ipRows[0].bounces, 4);
    EXPECT_EQ(ipRows[0].deliveries, 0);
    EXPECT_DOUBLE_EQ(ipRows[0].rate, 1.0);
}

TEST(Query, TimeSeriesIsEvenAndAddsUp)
{
    Fixture f;
    fill(f);
    const auto series = bt::timeSeries(f.ws, {}, true);
    ASSERT_FALSE(series.empty());
    EXPECT_EQ(series.front().bucket, "2026-03-01T00");
    EXPECT_EQ(series.back().bucket, "2026-03-01T09");
    EXPECT_EQ(series.size(), 10u); // every hour present, also those without traffic
    std::int64_t bounces = 0, deliveries = 0;
    for (const auto& b : series) {
        bounces += b.bounces;
        deliveries += b.deliveries;
        std::int64_t fam = 0;
        for (const auto& [k, v] : b.families)
            fam += v;
        EXPECT_EQ(fam, b.bounces) << b.bucket;
    }
    EXPECT_EQ(bounces, 20);
    EXPECT_EQ(deliveries, 120);
    EXPECT_TRUE(bt::preferHourly(f.ws, {}));

    const auto days = bt::timeSeries(f.ws, {}, false);
    ASSERT_EQ(days.size(), 1u);
    EXPECT_EQ(days[0].bounces, 20);
}

TEST(Query, DetailCarriesEveryFieldAndTheTemplate)
{
    Fixture f;
    fill(f);
    bt::EventFilter fam;
    fam.families = {"address"};
    const auto page = bt::eventPage(f.ws, fam, bt::EventColumn::Time, false, 0, 1);
    ASSERT_EQ(page.size(), 1u);
    const auto d = bt::eventDetail(f.ws, page[0].id);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->row.reply, kUnknown);
    EXPECT_EQ(d->row.basicCode, 550);
    EXPECT_EQ(d->row.enhancedCode, "5.1.1");
    EXPECT_EQ(d->templateText, kUnknown.substr(0, 12));
    EXPECT_GT(d->templateId, 0);
    EXPECT_NE(d->evidenceJson, "[]");
    EXPECT_EQ(d->importFormat, "test") << "the import's format, which says whether the reply came in a bounce email";
    EXPECT_FALSE(bt::eventDetail(f.ws, 999999));

    bt::EventFilter same;
    same.templateId = d->templateId;
    EXPECT_EQ(bt::countEvents(f.ws, same), 6);
}

TEST(Query, LiftedLaterNamesTheFirstLaterDelivery)
{
    Fixture f;
    fill(f);
    // Yahoo's reputation blocks at 02:0x were followed by deliveries from 05:00:00.
    const auto lifted = bt::liftedLater(f.ws);
    std::map<std::string, bt::LiftedBlock> by;
    for (const auto& l : lifted)
        by[l.domain] = l;
    ASSERT_TRUE(by.count("yahoo.com"));
    EXPECT_EQ(by["yahoo.com"].liftedAt, "2026-03-01T05:00:00Z");
    EXPECT_EQ(by["yahoo.com"].bounces, 10);
    // Gmail's blocks at 04:1x were followed by deliveries at 05:00 and later.
    ASSERT_TRUE(by.count("gmail.com"));
    EXPECT_EQ(by["gmail.com"].liftedAt, "2026-03-01T05:00:00Z");
}

TEST(Query, CsvExportQuotesAndCounts)
{
    Fixture f;
    fill(f);
    f.add("bounce", "Gmail", "gmail.com", "2026-03-01T06:00:00Z", "550 5.1.1 \"quoted\", with comma\nand a line");
    bt::EventFilter fam;
    fam.families = {"address"};
    std::ostringstream out;
    const auto n = bt::writeEventsCsv(f.ws, fam, out);
    EXPECT_EQ(n, bt::countEvents(f.ws, fam));
    const std::string csv = out.str();
    EXPECT_NE(csv.find("\"550 5.1.1 \"\"quoted\"\", with comma\nand a line\""), std::string::npos);
    EXPECT_EQ(csv.rfind("timestamp,event_type,", 0), 0u);
}

} // namespace
