// SPDX-License-Identifier: MIT
// The ESP and MTA importers on sample exports written from the documented field lists
// (docs/export-formats.md), broken records included: each test checks the format recognised
// from content, the exact counts, where each reject stands and why, and the mapped fields.
#include "classifier.h"
#include "csvreader.h"
#include "importer.h"
#include "importers/internal.h"
#include "knowledge.h"
#include "testsupport.h"
#include "workspace.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace
{

const std::filesystem::path kData = BT_TEST_DATA;

using testsupport::classifier;
using testsupport::scalar;
using testsupport::TempWorkspace;
using testsupport::text;

struct Expected {
    const char* format;
    std::int64_t read, imported, rejected, duplicate, skipped;
};

/// Imports a sample and checks the format and every count; the invariant read = imported +
/// rejected + duplicate holds for all.
bt::ImportResult importChecked(bt::Workspace& ws, const char* file, const Expected& x)
{
    const auto path = (kData / file).string();
    EXPECT_EQ(bt::detectFormat(path), x.format) << file;
    const auto r = bt::importPath(ws, path, classifier());
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.format, x.format) << file;
    EXPECT_EQ(r.counts.read, r.counts.imported + r.counts.rejected + r.counts.duplicate) << file;
    EXPECT_EQ(r.counts.read, x.read) << file;
    EXPECT_EQ(r.counts.imported, x.imported) << file;
    EXPECT_EQ(r.counts.rejected, x.rejected) << file;
    EXPECT_EQ(r.counts.duplicate, x.duplicate) << file;
    EXPECT_EQ(r.skipped, x.skipped) << file;
    return r;
}

/// The reject at `i` stands on `line` and its reason contains `words`.
void expectReject(const std::vector<bt::Reject>& rejects, std::size_t i, std::int64_t line, const std::string& words)
{
    ASSERT_LT(i, rejects.size());
    EXPECT_EQ(rejects[i].sourceLine, line) << rejects[i].reason;
    EXPECT_NE(rejects[i].reason.find(words), std::string::npos) << rejects[i].reason;
    EXPECT_NE(rejects[i].reason.find("line " + std::to_string(line)), std::string::npos) << rejects[i].reason;
    EXPECT_FALSE(rejects[i].raw.empty());
    EXPECT_GE(rejects[i].sourceOffset, 0);
}

} // namespace

TEST(EspImporters, SendGridEventWebhookArray)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // processed, open, click are skipped; one missing email, one unreadable time, one unknown
    // event are rejected; the last element repeats sg_event_id sg-ev-004.
    const auto r = importChecked(ws, "sendgrid-events.json", {"sendgrid_events", 11, 7, 3, 1, 3});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 3u);
    expectReject(rejects, 0, 12, "no recipient (field \"email\"");
    expectReject(rejects, 1, 13, "timestamp \"yesterday\" (field \"timestamp\") cannot be read");
    expectReject(rejects, 2, 14, "event type \"teleported\"");
    EXPECT_NE(rejects[2].raw.find("teleported"), std::string::npos);

    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || sending_ip || '|' || campaign || '|' || timestamp FROM events "
                   "WHERE recipient = 'ann@example.com'"),
              "delivered|198.51.100.20|spring-sale|2024-05-01T10:00:05Z");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || reason FROM events WHERE recipient = 'ben@yahoo.com'"),
              "deferral|speeding");
    EXPECT_EQ(text(ws,
                   "SELECT reason || '|' || enhanced_code || '|' || message_id FROM events WHERE recipient = "
                   "'cat@gmail.com'"),
              "userunknown|5.1.1|m-cat.filter0001");
    EXPECT_EQ(text(ws, "SELECT family FROM events WHERE recipient = 'dan@outlook.com'"), "reputation");
    // SendGrid's own suppression vs. a drop for another reason.
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || reason || '|' || reason_hint FROM events WHERE recipient = "
                   "'eve@example.org'"),
              "bounce|suppressed|suppressed");
    EXPECT_EQ(text(ws, "SELECT COALESCE(reason_hint, '') FROM events WHERE recipient = 'fay@example.org'"), "");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || reason FROM events WHERE recipient = 'gus@example.net'"),
              "complaint|feedback");
}

TEST(EspImporters, SendGridBatchesPerLineSurviveABrokenLine)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto r = importChecked(ws, "sendgrid-events.jsonl", {"sendgrid_events", 4, 3, 1, 0, 0});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 1u);
    expectReject(rejects, 0, 2, "not valid JSON");
    EXPECT_EQ(scalar(ws, "SELECT source_line FROM events WHERE recipient = 'kay@example.com'"), 1);
    EXPECT_EQ(scalar(ws, "SELECT source_line FROM events WHERE recipient = 'max@example.com'"), 3);
    // Re-importing adds nothing: every event is a duplicate of itself.
    const auto again = bt::importPath(ws, (kData / "sendgrid-events.jsonl").string(), classifier());
    EXPECT_EQ(again.counts.imported, 0);
    EXPECT_EQ(again.counts.duplicate, 3);
}

TEST(EspImporters, MailgunEventsApiPage)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // opened and accepted skipped; a non-address recipient and an empty timestamp rejected; the
    // last item repeats event id mg-ev-1.
    const auto r = importChecked(ws, "mailgun-events.json", {"mailgun_json", 8, 5, 2, 1, 2});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 2u);
    expectReject(rejects, 0, 57, "recipient \"not an address\" (field \"recipient\") is not an e-mail address");
    expectReject(rejects, 1, 58, "no timestamp (field \"timestamp\"");

    EXPECT_EQ(text(ws,
                   "SELECT sending_ip || '|' || envelope_sender || '|' || from_domain || '|' || campaign || '|' "
                   "|| message_id || '|' || remote_mta FROM events WHERE recipient = 'amy@gmail.com'"),
              "198.51.100.30|bounce+abc@mg.shop.example.com|shop.example.com|welcome|20240501100000.1.AAAA@mg.shop."
              "example.com|gmail-smtp-in.l.google.com");
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || basic_code || '|' || reason || '|' || campaign || '|' || timestamp "
                   "FROM events WHERE recipient = 'bea@example.lv'"),
              "deferral|454|blocked|autumn|2018-10-12T11:22:10Z");
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || reason FROM events WHERE recipient = 'cyd@example.com' AND "
                   "reason_hint IS NULL OR (recipient = 'cyd@example.com' AND reason_hint = '')"),
              "bounce|userunknown");
    EXPECT_EQ(text(ws,
                   "SELECT reason || '|' || reply_text FROM events WHERE recipient = 'cyd@example.com' AND "
                   "reason_hint = 'suppressed'"),
              "suppressed|Not delivering to previously bounced address");
    EXPECT_EQ(text(ws, "SELECT event_type FROM events WHERE recipient = 'dee@yahoo.com'"), "complaint");
}

TEST(EspImporters, PostmarkBouncesApiAndCsv)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // Unsubscribe skipped; an empty Email rejected; the last bounce repeats ID …807.
    const auto r = importChecked(ws, "postmark-bounces.json", {"postmark_json", 6, 4, 1, 1, 1});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 1u);
    expectReject(rejects, 0, 8, "no recipient (field \"Email\"");
    EXPECT_EQ(text(ws,
                   "SELECT reason || '|' || campaign || '|' || from_domain || '|' || reply_text FROM events WHERE "
                   "recipient = 'john@gmail.com'"),
              "userunknown|welcome|shop.example.com|550 5.1.1 The email account that you tried to reach does not "
              "exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.");
    // SoftBounce is a deferral; with no Tag the stream is the campaign; the zone is honoured.
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || reason || '|' || campaign || '|' || timestamp FROM events WHERE "
                   "recipient = 'kate@gmail.com'"),
              "deferral|mailboxfull|broadcast|2024-05-01T14:05:00Z");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || reason FROM events WHERE recipient = 'liz@yahoo.com'"),
              "complaint|feedback");
    EXPECT_EQ(text(ws, "SELECT reason FROM events WHERE recipient = 'ned@example.com'"), "suppressed");

    // The CSV export: same columns. An impossible date and a short row are rejected.
    const auto c = importChecked(ws, "postmark-bounces.csv", {"postmark_csv", 5, 3, 2, 0, 0});
    const auto csvRejects = ws.rejects(c.importId);
    ASSERT_EQ(csvRejects.size(), 2u);
    expectReject(csvRejects, 0, 4, "timestamp \"02/31/2024 08:02:00\" (field \"BouncedAt\") cannot be read");
    expectReject(csvRejects, 1, 5, "10 fields where the header has 12");
    EXPECT_EQ(text(ws, "SELECT family FROM events WHERE recipient = 'olga@example.ru'"), "reputation");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || campaign FROM events WHERE recipient = 'pia@example.de'"),
              "deferral|promo");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || reason FROM events WHERE recipient = 'sue@example.de'"),
              "auto_reply|vacation");
}

TEST(EspImporters, SparkPostWebhookLinesAndCsv)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // A batch on line 1 (two events), wrapped events after; an open skipped; a broken line and
    // an empty rcpt_to rejected.
    const auto r = importChecked(ws, "sparkpost-events.jsonl", {"sparkpost_json", 7, 5, 2, 0, 1});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 2u);
    expectReject(rejects, 0, 6, "not valid JSON");
    expectReject(rejects, 1, 7, "no recipient (field \"rcpt_to\"");
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || sending_ip || '|' || campaign || '|' || from_domain || '|' || "
                   "envelope_sender FROM events WHERE recipient = 'tom@gmail.com'"),
              "delivered|198.51.100.50|may-news|shop.example.com|msprvs1=abc=bounces-123@sparkpostmail.com");
    // raw_reason, not the redacted reason, is the reply.
    EXPECT_NE(text(ws, "SELECT reply_text FROM events WHERE recipient = 'una@hotmail.com'").find("(S3140)"),
              std::string::npos);
    EXPECT_EQ(text(ws, "SELECT basic_code || '|' || family FROM events WHERE recipient = 'una@hotmail.com'"),
              "550|reputation");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || timestamp FROM events WHERE recipient = 'val@yahoo.com'"),
              "deferral|2024-05-01T10:02:00Z");
    EXPECT_EQ(text(ws, "SELECT reason FROM events WHERE recipient = 'wes@example.com'"), "suppressed");
    EXPECT_EQ(text(ws, "SELECT event_type FROM events WHERE recipient = 'xia@aol.com'"), "complaint");

    const auto c = importChecked(ws, "sparkpost-events.csv", {"sparkpost_csv", 4, 2, 2, 0, 0});
    const auto csvRejects = ws.rejects(c.importId);
    ASSERT_EQ(csvRejects.size(), 2u);
    expectReject(csvRejects, 0, 4, "8 fields where the header has 12");
    expectReject(csvRejects, 1, 5, "timestamp \"not-a-time\" (field \"timestamp\") cannot be read");
    EXPECT_EQ(text(ws, "SELECT reason || '|' || campaign FROM events WHERE recipient = 'abe@example.com'"),
              "userunknown|june-news");
}

TEST(EspImporters, MandrillWebhookEvents)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // An open skipped; no msg.email and no ts rejected; the last send repeats md-1/send/ts.
    const auto r = importChecked(ws, "mandrill-events.json", {"mandrill_json", 9, 6, 2, 1, 1});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 2u);
    expectReject(rejects, 0, 9, "no recipient (field \"msg.email\"");
    expectReject(rejects, 1, 10, "no timestamp (field \"msg.ts\"");
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || sending_ip || '|' || campaign || '|' || from_domain FROM events "
                   "WHERE recipient = 'ada@gmail.com'"),
              "delivered|198.51.100.60|newsletter|shop.example.com");
    // A deferral's reply comes from its SMTP event.
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || reason FROM events WHERE recipient = 'bo@yahoo.com'"),
              "deferral|speeding");
    EXPECT_EQ(text(ws, "SELECT reason FROM events WHERE recipient = 'cy@example.com'"), "userunknown");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || reason FROM events WHERE recipient = 'di@example.com'"),
              "deferral|mailboxfull");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || reason FROM events WHERE recipient = 'ed@example.com'"),
              "bounce|suppressed");
    EXPECT_EQ(text(ws, "SELECT event_type FROM events WHERE recipient = 'flo@aol.com'"), "complaint");
}

TEST(EspImporters, BrevoWebhookLines)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // opened skipped; an impossible date, a broken line and an unknown event rejected.
    const auto r = importChecked(ws, "brevo-events.jsonl", {"brevo_json", 8, 5, 3, 0, 1});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 3u);
    expectReject(rejects, 0, 7, "timestamp \"2024-13-45\" (field \"ts_event\") cannot be read");
    expectReject(rejects, 1, 8, "not valid JSON");
    expectReject(rejects, 2, 9, "event type \"unknown_thing\" (field \"event\")");
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || sending_ip || '|' || campaign || '|' || timestamp || '|' || "
                   "message_id FROM events WHERE recipient = 'hana@gmail.com'"),
              "delivered|198.51.100.70|onboarding|2024-05-01T10:00:00Z|<202405011200.1@smtp-relay.mailin.fr>");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || reason FROM events WHERE recipient = 'ivo@example.com'"),
              "deferral|mailboxfull");
    EXPECT_EQ(text(ws, "SELECT reason || '|' || campaign FROM events WHERE recipient = 'jan@example.com'"),
              "userunknown|onboarding");
    EXPECT_EQ(text(ws, "SELECT reason FROM events WHERE recipient = 'kim@example.com'"), "suppressed");
    EXPECT_EQ(text(ws, "SELECT event_type FROM events WHERE recipient = 'lea@yahoo.com'"), "complaint");
}

TEST(EspImporters, Microsoft365TraceDetailAndReport)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // Export-Csv's #TYPE line is not the header; the Receive step is skipped; an unreadable
    // Date and a short row are rejected.
    const auto r = importChecked(ws, "m365-trace-detail.csv", {"m365_csv", 5, 3, 2, 0, 1});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 2u);
    expectReject(rejects, 0, 7, "timestamp \"sometime\" (field \"Date\") cannot be read");
    expectReject(rejects, 1, 8, "7 fields where the header has 16");
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || reply_text || '|' || reason || '|' || timestamp || '|' || "
                   "from_domain FROM events WHERE recipient = 'pam@fabrikam.com'"),
              "bounce|550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address "
              "lookup|userunknown|2024-05-01T10:00:02Z|contoso.com");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || timestamp FROM events WHERE recipient = 'quin@fabrikam.com'"),
              "delivered|2024-05-01T13:05:00Z");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || remote_mta FROM events WHERE recipient = 'ray@tailspin.com'"),
              "deferral|mx.tailspin.com");

    // The report: one row per message, the last step of each recipient decides.
    const auto rep = importChecked(ws, "m365-trace-report.csv", {"m365_csv", 4, 3, 1, 0, 1});
    const auto repRejects = ws.rejects(rep.importId);
    ASSERT_EQ(repRejects.size(), 1u);
    expectReject(repRejects, 0, 5, "no recipient");
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || sending_ip || '|' || timestamp FROM events WHERE recipient = "
                   "'tia@fabrikam.com'"),
              "delivered|198.51.100.90|2024-05-01T10:00:00Z");
    EXPECT_EQ(text(ws, "SELECT event_type FROM events WHERE recipient = 'uma@fabrikam.com'"), "bounce");
    EXPECT_EQ(text(ws, "SELECT event_type FROM events WHERE recipient = 'vic@tailspin.com'"), "deferral");
}

TEST(EspImporters, EximMainLogJoinsSenderByMessageId)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    // Arrivals, Completed and connection lines are not records; a pipe and an impossible time
    // are rejected.
    const auto r = importChecked(ws, "exim-mainlog", {"exim_log", 8, 6, 2, 0, 0});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 2u);
    expectReject(rejects, 0, 11, "recipient \"|/usr/local/bin/handler\" is not an e-mail address");
    expectReject(rejects, 1, 12, "timestamp \"2020-01-29 25:99:03\" cannot be read");
    EXPECT_EQ(scalar(ws,
                     "SELECT COUNT(*) FROM events WHERE envelope_sender = 'news@shop.example.com' AND from_domain "
                     "= 'shop.example.com'"),
              5);
    // The bounce of a bounce (arrived from <>) has no sender to join.
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || COALESCE(envelope_sender, '') || '|' || reply_text FROM events "
                   "WHERE recipient = 'news@shop.example.com'"),
              "bounce||Unrouteable address");
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || family || '|' || remote_mta || '|' || timestamp FROM events WHERE "
                   "recipient = 'user@mail.ru'"),
              "bounce|content|mxs.mail.ru|2020-01-29T17:18:34Z");
    EXPECT_EQ(text(ws,
                   "SELECT event_type || '|' || sending_ip || '|' || basic_code FROM events WHERE recipient = "
                   "'ok@gmail.com'"),
              "delivered|198.51.100.80|250");
    EXPECT_EQ(text(ws, "SELECT event_type FROM events WHERE recipient = 'alias@gmail.com'"), "delivered");
    EXPECT_EQ(text(ws, "SELECT event_type || '|' || basic_code FROM events WHERE recipient = 'later@gmail.com'"),
              "deferral|421");
    EXPECT_EQ(text(ws, "SELECT reason || '|' || enhanced_code FROM events WHERE recipient = 'nobody@example.com'"),
              "userunknown|5.1.1");
}

TEST(EspImporters, JsonShapesAreRecognisedFromTheFirstRecordsKeys)
{
    const auto dir = std::filesystem::temp_directory_path() / ("bt-shapes-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto detect = [&](const char* name, const std::string& content) {
        std::ofstream((dir / name).string()) << content;
        return bt::detectFormat((dir / name).string());
    };
    // A pretty-printed single webhook object, a bare Postmark array, a SparkPost API page, a
    // Mandrill body saved with its form name, a lines file whose first line is broken.
    EXPECT_EQ(detect("a",
                     "{\n  \"event\": \"failed\",\n  \"severity\": \"permanent\",\n  \"recipient\": "
                     "\"a@example.com\",\n  \"delivery-status\": {\"code\": 550}\n}\n"),
              "mailgun_json");
    EXPECT_EQ(detect("b",
                     "[{\"ID\": 1, \"Type\": \"HardBounce\", \"TypeCode\": 1, \"Email\": \"a@example.com\", "
                     "\"BouncedAt\": \"2024-05-01T10:00:00Z\"}]"),
              "postmark_json");
    EXPECT_EQ(detect("c",
                     "{\"results\": [{\"type\": \"bounce\", \"rcpt_to\": \"a@example.com\", \"raw_reason\": "
                     "\"550 x\"}], \"total_count\": 1}"),
              "sparkpost_json");
    EXPECT_EQ(detect("d",
                     "{\"mandrill_events\": [{\"event\": \"hard_bounce\", \"msg\": {\"email\": "
                     "\"a@example.com\"}}]}"),
              "mandrill_json");
    EXPECT_EQ(detect("e",
                     "{\"email\": \"a@example.com\", \"event\": \"bounce\n{\"email\": \"b@example.com\", "
                     "\"timestamp\": 1714557600, \"event\": \"bounce\", \"sg_event_id\": \"x\"}\n"),
              "sendgrid_events");
    EXPECT_EQ(detect("f", "{\"something\": \"else\"}\n"), "");

    // The pretty-printed single object imports as one record.
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    std::ofstream((dir / "g").string()) << "{\n  \"event\": \"failed\",\n  \"id\": \"x1\",\n  \"severity\": "
                                           "\"permanent\",\n  \"timestamp\": 1714557600,\n  \"recipient\": "
                                           "\"a@example.com\",\n  \"delivery-status\": {\"code\": 550, \"message\": "
                                           "\"5.1.1 no such user\"}\n}\n";
    const auto r = bt::importPath(ws, (dir / "g").string(), classifier());
    EXPECT_EQ(r.counts.imported, 1) << r.error;
    std::filesystem::remove_all(dir);
}

// ---- What IMPORTERS.md promises of every importer, the older CSV and SES ones included --------

TEST(ImporterPromises, SesAndMailgunComplaintsAreStoredAlike)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    ASSERT_EQ(bt::importPath(ws, (kData / "ses-notifications.jsonl").string(), classifier()).format, "ses_json");
    ASSERT_EQ(bt::importPath(ws, (kData / "mailgun-events.json").string(), classifier()).format, "mailgun_json");
    // One complaint from each; both are feedback/complaint with the reason hint, not undefined/unknown.
    EXPECT_EQ(text(ws,
                   "SELECT group_concat(source || ':' || reason || '/' || family || '/' || reason_hint, ' ') FROM "
                   "(SELECT * FROM events WHERE event_type = 'complaint' ORDER BY source)"),
              "amazonses:feedback/complaint/feedback mailgun:feedback/complaint/feedback");
}

TEST(ImporterPromises, ProfileRowsKeepTheirTypeAndNeedATimestamp)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto profile = bt::CsvProfile::load((kData / "profile-events.json").string());
    const auto r = bt::importPath(ws, (kData / "profile-events.csv").string(), classifier(), nullptr, &profile);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.format, "csv:crm-events");
    // The open is not an outcome: skipped, not read and never a bounce; the undated row and the
    // unknown event type are rejected with the reason.
    EXPECT_EQ(r.counts.read, 6);
    EXPECT_EQ(r.counts.imported, 4);
    EXPECT_EQ(r.counts.rejected, 2);
    EXPECT_EQ(r.skipped, 1);
    EXPECT_EQ(text(ws,
                   "SELECT group_concat(recipient || ':' || event_type, ' ') FROM (SELECT * FROM events ORDER BY "
                   "source_line)"),
              "uma@example.com:bounce vic@example.com:delivered xia@example.com:complaint yul@example.com:deferral");
    EXPECT_EQ(text(ws, "SELECT reason || '/' || family FROM events WHERE event_type = 'complaint'"),
              "feedback/complaint");
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 2u);
    expectReject(rejects, 0, 7, "no timestamp (field \"When\" is missing or empty)");
    expectReject(rejects, 1, 8, "event type \"teleported\" (field \"What happened\") is not one this importer knows");
}

TEST(ImporterPromises, SendGridCsvRowWithoutATimestampIsRejected)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto r = importChecked(ws, "sendgrid-bounces-undated.csv", {"sendgrid_csv", 2, 1, 1, 0, 0});
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 1u);
    expectReject(rejects, 0, 3, "no timestamp (field \"created\" is missing or empty)");
}

// ---- A folder: each file by its content -----------------------------------------------------------

namespace
{

/// Every event and reject of a workspace, in one comparable text (import ids left out).
std::string eventsAndRejects(bt::Workspace& ws)
{
    return text(ws,
                "SELECT group_concat(x, char(10)) FROM (SELECT source || '|' || recipient || '|' || event_type || '|' "
                "|| COALESCE(timestamp, '') || '|' || COALESCE(reason, '') || '|' || COALESCE(family, '') || '|' || "
                "dedup_key || '|' || source_file || '|' || COALESCE(source_line, 0) AS x FROM events ORDER BY x)")
        + "\n--\n"
        + text(ws,
               "SELECT group_concat(x, char(10)) FROM (SELECT source_file || '|' || COALESCE(source_line, 0) || '|' || "
               "reason AS x FROM rejects ORDER BY x)");
}

} // namespace

TEST(FolderImport, AMixedFolderGivesTheEventsOfItsFilesImportedOneByOne)
{
    // Bounce e-mails, ESP exports (CSV, JSON Lines, JSON) and MTA logs side by side, as an
    // "exports/" folder holds them.
    const auto dir = std::filesystem::temp_directory_path() / ("bt-mixed-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "mail");
    const std::vector<std::string> files = {"sendgrid-bounces.csv", "ses-notifications.jsonl", "mailgun-events.json",
                                            "exim-mainlog", "postfix-mail.log"};
    for (const auto& f : files)
        std::filesystem::copy_file(kData / f, dir / f);
    const auto eml = std::filesystem::path(BT_RESOURCES_DIR) / "sample" / "bounce-sample.eml";
    std::filesystem::copy_file(eml, dir / "mail" / "bounce.eml");

    // One import per file with its own format; the folder itself for its e-mails.
    const auto inputs = bt::importInputs(dir.string());
    std::vector<std::string> expected = {dir.string()};
    for (const char* f :
         {"exim-mainlog", "mailgun-events.json", "postfix-mail.log", "sendgrid-bounces.csv", "ses-notifications.jsonl"})
        expected.push_back((dir / f).string());
    EXPECT_EQ(inputs, expected);

    // The year of the Postfix log's lines: the copies' modification times are not the originals'.
    bt::ImportOptions options;
    options.year = 2024;
    TempWorkspace a, b;
    std::map<std::string, std::string> formats;
    std::int64_t rejected = 0;
    {
        bt::Workspace ws(a.path.string());
        for (const auto& in : inputs) {
            const auto r = bt::importPath(ws, in, classifier(), nullptr, nullptr, options);
            EXPECT_TRUE(r.error.empty()) << r.error;
            EXPECT_EQ(r.counts.read, r.counts.imported + r.counts.rejected + r.counts.duplicate) << in;
            formats[std::filesystem::path(in).filename().string()] = r.format;
            rejected += r.counts.rejected;
        }
    }
    EXPECT_EQ(formats.size(), 6u);
    EXPECT_EQ(formats["sendgrid-bounces.csv"], "sendgrid_csv");
    EXPECT_EQ(formats["ses-notifications.jsonl"], "ses_json");
    EXPECT_EQ(formats["mailgun-events.json"], "mailgun_json");
    EXPECT_EQ(formats["exim-mainlog"], "exim_log");
    EXPECT_EQ(formats["postfix-mail.log"], "postfix_log");
    EXPECT_EQ(formats[dir.filename().string()], "email");
    EXPECT_GT(rejected, 0); // the samples' broken records are kept as rejects

    // The same files imported one by one.
    {
        bt::Workspace ws(b.path.string());
        for (const auto& f : files)
            EXPECT_TRUE(bt::importPath(ws, (dir / f).string(), classifier(), nullptr, nullptr, options).error.empty());
        EXPECT_TRUE(bt::importPath(ws, (dir / "mail" / "bounce.eml").string(), classifier()).error.empty());
    }
    bt::Workspace wa(a.path.string()), wb(b.path.string());
    EXPECT_GT(wa.eventCount(), 25);
    EXPECT_EQ(eventsAndRejects(wa), eventsAndRejects(wb));
    std::filesystem::remove_all(dir);
}

TEST(FolderImport, AFolderOfEmailsStaysOneImport)
{
    // Every file of the corpus's maildirs is an e-mail (or nothing recognised): one import each.
    for (const char* sub : {"maildir", "mailbox"}) {
        const auto dir = std::string(BT_SHARED_DIR) + "/corpus/sisimai/" + sub;
        if (!std::filesystem::is_directory(dir))
            continue;
        EXPECT_EQ(bt::importInputs(dir), std::vector<std::string> {dir}) << dir;
    }
}

// ---- The registry ----------------------------------------------------------------------------------

TEST(ImporterRegistry, OneEntryPerFormatAndEachSampleDetectedByItsOwn)
{
    const auto& table = bt::detail::importers();
    std::set<std::string_view> names;
    for (const auto& i : table) {
        EXPECT_TRUE(names.insert(i.name).second) << i.name << " twice";
        EXPECT_NE(i.detect, nullptr) << i.name;
        EXPECT_NE(i.run, nullptr) << i.name;
        EXPECT_FALSE(i.extensions.empty()) << i.name;
        EXPECT_EQ(bt::detail::importerNamed(i.name), &i);
    }
    // Every sample is claimed by its format's detector, with more confidence than any other's.
    const std::map<std::string, std::string_view> samples = {
        {"sendgrid-bounces.csv", bt::format::sendgridCsv},
        {"sendgrid-events.json", bt::format::sendgridEvents},
        {"sendgrid-events.jsonl", bt::format::sendgridEvents},
        {"mailgun-events.json", bt::format::mailgun},
        {"postmark-bounces.json", bt::format::postmarkJson},
        {"postmark-bounces.csv", bt::format::postmarkCsv},
        {"sparkpost-events.jsonl", bt::format::sparkpostJson},
        {"sparkpost-events.csv", bt::format::sparkpostCsv},
        {"mandrill-events.json", bt::format::mandrill},
        {"brevo-events.jsonl", bt::format::brevo},
        {"ses-notifications.jsonl", bt::format::ses},
        {"m365-trace-detail.csv", bt::format::m365},
        {"m365-trace-report.csv", bt::format::m365},
        {"postfix-mail.log", bt::format::postfix},
        {"exim-mainlog", bt::format::exim},
        {"profile-events.csv", bt::format::csv},
        {"dmarc/google.xml", bt::format::dmarc},
    };
    for (const auto& [file, format] : samples)
        EXPECT_EQ(bt::detectFormat((kData / file).string()), format) << file;
    EXPECT_EQ(bt::detectFormat((std::filesystem::path(BT_RESOURCES_DIR) / "sample" / "bounce-sample.eml").string()),
              bt::format::email);
    for (const auto& i : table)
        EXPECT_TRUE(i.name == bt::format::csv
                    || std::any_of(samples.begin(), samples.end(), [&](const auto& s) { return s.second == i.name; })
                    || i.name == bt::format::email)
            << i.name << " has no sample here";
}

TEST(RecordLimit, ACsvRecordLongerThanTheLimitIsRejectedUnreadAndReadingGoesOn)
{
    // A small limit stands for kMaxRecordBytes (1 MB; the 50 MB case is measured by
    // ImportMemory.*): the long record comes back with its line and size and no fields, and the
    // records before and after it are read as usual, quoted newlines included.
    std::istringstream in("a,b\n1,short\n2,\"" + std::string(500, 'x') + "\"\n3,\"two\nlines\"\n4,last\n");
    bt::CsvReader reader(in, 0, 100);
    bt::CsvRow row;
    std::string err;
    ASSERT_TRUE(reader.next(row, err));
    EXPECT_EQ(row.fields, (std::vector<std::string> {"a", "b"}));
    ASSERT_TRUE(reader.next(row, err));
    EXPECT_EQ(row.fields, (std::vector<std::string> {"1", "short"}));
    ASSERT_TRUE(reader.next(row, err));
    EXPECT_TRUE(row.fields.empty());
    EXPECT_EQ(row.line, 3);
    EXPECT_LE(row.raw.size(), 200u);
    EXPECT_NE(err.find("line 3"), std::string::npos) << err;
    EXPECT_NE(err.find("505 bytes"), std::string::npos) << err;
    ASSERT_TRUE(reader.next(row, err));
    EXPECT_TRUE(err.empty()) << err;
    EXPECT_EQ(row.fields, (std::vector<std::string> {"3", "two\nlines"}));
    EXPECT_EQ(row.line, 4);
    ASSERT_TRUE(reader.next(row, err));
    EXPECT_EQ(row.fields, (std::vector<std::string> {"4", "last"}));
    EXPECT_EQ(row.line, 6);
    EXPECT_FALSE(reader.next(row, err));
}

TEST(RecordLimit, AJsonRecordLongerThanTheLimitIsRejectedNamingItsLineAndSize)
{
    // Through the importer: a SendGrid webhook file whose second record holds a 2 MB reply.
    TempWorkspace tw;
    const auto file = std::filesystem::temp_directory_path() / ("bt-long-" + std::to_string(::getpid()) + ".jsonl");
    {
        std::ofstream out(file);
        out << R"({"event":"bounce","email":"a@example.com","timestamp":1709290000,"reason":"550 5.1.1 unknown"})"
            << '\n'
            << R"({"event":"bounce","email":"b@example.com","timestamp":1709290001,"reason":")"
            << std::string(2 << 20, 'x') << "\"}\n"
            << R"({"event":"bounce","email":"c@example.com","timestamp":1709290002,"reason":"550 5.1.1 unknown"})"
            << '\n';
    }
    bt::Workspace ws(tw.path.string());
    const auto r = bt::importPath(ws, file.string(), classifier());
    std::filesystem::remove(file);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.counts.imported, 2);
    EXPECT_EQ(r.counts.rejected, 1);
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_EQ(rejects[0].sourceLine, 2);
    EXPECT_NE(rejects[0].reason.find("line 2: the record takes 2.0 MB, more than the 1.0 MB"), std::string::npos)
        << rejects[0].reason;
    EXPECT_LE(rejects[0].raw.size(), 200u);
}

TEST(ProfileGuess, HeaderWordsNameTheirFields)
{
    // A SendGrid-like suppression export.
    auto g = bt::guessProfileColumns({"Email", "Reason", "Created", "Status"});
    EXPECT_EQ(g["recipient"], "Email");
    EXPECT_EQ(g["reply"], "Reason");
    EXPECT_EQ(g["timestamp"], "Created");
    EXPECT_EQ(g["status"], "Status");
    // "Reply-To" holds no reply, and "ip" is a word of "Sending IP", not a part of "Recipient".
    g = bt::guessProfileColumns({"Reply-To", "Recipient", "Diagnostic-Code", " Sending IP ", "Message-ID", "Date"});
    EXPECT_EQ(g["recipient"], "Recipient");
    EXPECT_EQ(g["reply"], "Diagnostic-Code");
    EXPECT_EQ(g["sending_ip"], " Sending IP ") << "the header as written, for the profile file";
    EXPECT_EQ(g["message_id"], "Message-ID");
    EXPECT_EQ(g["timestamp"], "Date");
    EXPECT_EQ(g.count("from"), 0u);
    // Each header goes to one field: "SMTP Code" is the code, not the reply.
    g = bt::guessProfileColumns({"to", "smtp code", "smtp response"});
    EXPECT_EQ(g["recipient"], "to");
    EXPECT_EQ(g["reply"], "smtp response");
    EXPECT_EQ(g["basic_code"], "smtp code");
    // Nothing known: nothing guessed.
    EXPECT_TRUE(bt::guessProfileColumns({"a", "b", ""}).empty());
    // The fields guessed are the profile's fields.
    const auto fields = bt::profileFields();
    EXPECT_EQ(fields.front(), "recipient");
    EXPECT_EQ(fields.size(), 12u);
}
