// SPDX-License-Identifier: MIT
// Importers into a real SQLite workspace file: counts, rejects, duplicates, re-diagnosis,
// reports, and an import killed with SIGKILL.
#include "analysis.h"
#include "classifier.h"
#include "cube.h"
#include "importer.h"
#include "knowledge.h"
#include "query.h"
#include "replytemplate.h"
#include "testsupport.h"
#include "workspace.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace
{

const std::filesystem::path kData = BT_TEST_DATA;
const std::filesystem::path kCorpusBsd
    = std::filesystem::path(BT_SHARED_DIR) / "corpus" / "sisimai" / "maildir" / "bsd";

using testsupport::classifier;
using testsupport::scalar;
using testsupport::TempWorkspace;

void expectNothingLost(const bt::ImportResult& r)
{
    EXPECT_EQ(r.counts.read, r.counts.imported + r.counts.rejected + r.counts.duplicate) << r.file;
}

/// Imports these bounce emails of the corpus (maildir/bsd) into ws: each must give events.
void importCorpusEmails(bt::Workspace& ws, std::initializer_list<const char*> files)
{
    for (const char* f : files)
        ASSERT_GT(bt::importPath(ws, (kCorpusBsd / f).string(), classifier()).counts.imported, 0) << f;
}

} // namespace

TEST(Workspace, SchemaIsVersionedAndOpensAgain)
{
    TempWorkspace t;
    {
        bt::Workspace ws(t.path.string());
        EXPECT_EQ(ws.schemaVersion(), bt::Workspace::kSchemaVersion);
    }
    bt::Workspace again(t.path.string());
    EXPECT_EQ(again.schemaVersion(), bt::Workspace::kSchemaVersion);
    auto st = again.db().prepare("PRAGMA journal_mode");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), "wal");
}

TEST(Workspace, SchemaElevenAddsTheAddressTheSenderMailed)
{
    // Schema 11: events.original_recipient. A workspace of schema 10 gets the column when opened
    // to write, its events keep NULL there; a file set back to 10 that already has it (by hand,
    // or an older program's repair) opens too: the step that would add it again is skipped.
    TempWorkspace t;
    auto columns = [](bt::Workspace& ws) {
        return scalar(ws, "SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'original_recipient'");
    };
    {
        bt::Workspace ws(t.path.string());
        ws.db().exec("ALTER TABLE events DROP COLUMN original_recipient; PRAGMA user_version=10");
        EXPECT_EQ(columns(ws), 0);
    }
    {
        bt::Workspace ws(t.path.string());
        EXPECT_EQ(ws.schemaVersion(), 11);
        EXPECT_EQ(columns(ws), 1);
        ws.db().exec("PRAGMA user_version=10");
    }
    bt::Workspace again(t.path.string());
    EXPECT_EQ(again.schemaVersion(), 11);
    EXPECT_EQ(columns(again), 1);
}

TEST(Workspace, TheSearchIndexBuffersEightMegabytesOfNewEntries)
{
    // Schema 9: FTS5 keeps up to 8 MB of new entries before writing a segment (its default 1 MB
    // made a bulk batch a hundred small segments to merge). New workspaces have it; one of
    // schema 8 gets it when opened to write, and its search still finds what it held.
    TempWorkspace t;
    auto hashsize = [](bt::Workspace& ws) {
        return scalar(ws, "SELECT COALESCE((SELECT v FROM events_fts_config WHERE k = 'hashsize'), 0)");
    };
    {
        bt::Workspace ws(t.path.string());
        EXPECT_EQ(hashsize(ws), 8388608);
        const auto csv = t.path.string() + ".csv";
        std::ofstream(csv) << "created,email,reason,status\n"
                              "1700000000,a@example.com,550 5.1.1 mailbox unavailable,5.1.1\n";
        ASSERT_EQ(bt::importPath(ws, csv, classifier()).counts.imported, 1);
        std::filesystem::remove(csv);
    }
    {
        bt::sql::Database raw(t.path.string());
        raw.exec("DELETE FROM events_fts_config WHERE k = 'hashsize'; PRAGMA user_version=8");
    }
    {
        bt::Workspace viewer(t.path.string(), bt::Workspace::Mode::View);
        EXPECT_EQ(viewer.schemaVersion(), 8) << "viewing never migrates";
    }
    bt::Workspace ws(t.path.string());
    EXPECT_EQ(ws.schemaVersion(), bt::Workspace::kSchemaVersion);
    EXPECT_EQ(hashsize(ws), 8388608);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH 'unavail'"), 1);
}

TEST(Importers, SendGridCsvCountsRejectsAndDuplicates)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto r = bt::importPath(ws, (kData / "sendgrid-bounces.csv").string(), classifier());
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.format, "sendgrid_csv");
    expectNothingLost(r);
    EXPECT_EQ(r.counts.read, 10);
    EXPECT_EQ(r.counts.rejected, 3); // not an address, unreadable time, short row
    EXPECT_EQ(r.counts.duplicate, 1); // the same row twice in one export
    EXPECT_EQ(r.counts.imported, 6);
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 3u);
    EXPECT_EQ(rejects[0].sourceLine, 8);
    EXPECT_NE(rejects[0].reason.find("not-an-address"), std::string::npos);
    EXPECT_FALSE(rejects[0].raw.empty());
    EXPECT_EQ(rejects[2].sourceLine, 12);

    // The quoted multi-line reply is kept whole and diagnosed.
    auto st = ws.db().prepare("SELECT reply_text, reason, provider, source_line FROM events WHERE recipient = "
                              "'alice@gmail.com'");
    ASSERT_TRUE(st.step());
    EXPECT_NE(st.text(0).find("unnecessary spaces"), std::string::npos);
    EXPECT_EQ(st.text(1), "userunknown");
    EXPECT_EQ(st.text(2), "Gmail");
    EXPECT_EQ(st.int64(3), 2);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE reason = 'blocked' AND recipient = 'carol@outlook.com'"),
              1);
}

TEST(Importers, ReimportAddsNothing)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto first = bt::importPath(ws, (kData / "sendgrid-bounces.csv").string(), classifier());
    const auto second = bt::importPath(ws, (kData / "sendgrid-bounces.csv").string(), classifier());
    expectNothingLost(second);
    EXPECT_EQ(second.counts.read, first.counts.read);
    EXPECT_EQ(second.counts.imported, 0);
    EXPECT_EQ(second.counts.duplicate, first.counts.imported + first.counts.duplicate);
    EXPECT_EQ(ws.eventCount(), first.counts.imported);
}

TEST(Importers, SemicolonCsvWithBomAndCrLf)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto r = bt::importPath(ws, (kData / "sendgrid-blocks-semicolon.csv").string(), classifier());
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.counts.imported, 2);
    // Orange's permanent "Service refuse" refuses the client (as replies-ambiguous.tsv reads La
    // Poste's); its code 506 names no cause of its own.
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE recipient = 'judy@orange.fr' AND family = 'reputation'"),
              1);
}

TEST(Importers, SesNotificationsLinesAndSnsEnvelope)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto r = bt::importPath(ws, (kData / "ses-notifications.jsonl").string(), classifier());
    ASSERT_EQ(r.format, "ses_json");
    expectNothingLost(r);
    EXPECT_EQ(r.counts.read, 6);
    EXPECT_EQ(r.counts.imported, 4);
    EXPECT_EQ(r.counts.rejected, 2); // a truncated line, a Send notification
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'delivered'"), 1);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'complaint' AND recipient = 'mia@yahoo.com'"),
              1);
    EXPECT_EQ(
        scalar(ws, "SELECT COUNT(*) FROM events WHERE campaign = 'marketing' AND from_domain = 'shop.example.com'"), 2);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'deferral' AND reason = 'mailboxfull'"), 1);
}

TEST(Importers, PostfixLogJoinsSenderByQueueId)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto r = bt::importPath(ws, (kData / "postfix-mail.log").string(), classifier());
    ASSERT_EQ(r.format, "postfix_log");
    expectNothingLost(r);
    EXPECT_EQ(r.counts.read, 6); // the delivery lines only
    EXPECT_EQ(r.counts.rejected, 1);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE envelope_sender = 'news@shop.example.com'"), 2);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'delivered' AND recipient = 'pat@gmail.com'"),
              1);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE recipient = 'sam@gmail.com' AND family = 'auth'"), 1);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE recipient = 'rob@example.com' AND enhanced_code = '5.4.4'"),
              1);
}

TEST(Importers, BounceEmailFolderFromTheCorpus)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto r = bt::importPath(ws, std::string(BT_SHARED_DIR) + "/corpus/sisimai/maildir/bsd", classifier());
    ASSERT_EQ(r.format, "email");
    expectNothingLost(r);
    EXPECT_GT(r.counts.imported, 450);
    // Identical files in the corpus are duplicates of each other; messages that are not
    // bounces are kept as rejects with the reason.
    EXPECT_GT(r.counts.duplicate, 0);
    for (const auto& rej : ws.rejects(r.importId))
        EXPECT_FALSE(rej.reason.empty());
    // Full-text search over replies.
    EXPECT_GT(scalar(ws, "SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH 'spamhaus'"), 0);
}

TEST(Importers, ProfileMapsAnUnknownCsv)
{
    TempWorkspace t;
    // Per process: other builds of the suite may run this test at the same time.
    const auto tag = std::to_string(::getpid());
    const auto csv = std::filesystem::temp_directory_path() / ("bt-profile-test-" + tag + ".csv");
    const auto profilePath = std::filesystem::temp_directory_path() / ("bt-profile-test-" + tag + ".json");
    std::ofstream(csv) << "When\tWho\tWhat happened\tServer said\n"
                          "2024-05-01 10:00:00\tuma@example.com\tbounce\t550 5.1.1 No such user\n"
                          "2024-05-01 10:01:00\tvic@example.com\tdelivered\t250 OK\n"
                          "2024-05-01 10:02:00\t\tbounce\t550 5.1.1 No such user\n";
    std::ofstream(profilePath) << R"({"name": "crm-export", "delimiter": "\t", "columns": {"recipient": "Who",
        "timestamp": "When", "event_type": "What happened", "reply": "Server said"}})";
    const auto profile = bt::CsvProfile::load(profilePath.string());
    bt::Workspace ws(t.path.string());
    EXPECT_EQ(bt::detectFormat(csv.string()), "csv");
    const auto without = bt::importPath(ws, csv.string(), classifier());
    EXPECT_FALSE(without.error.empty()) << "an unknown CSV needs a profile";
    const auto r = bt::importPath(ws, csv.string(), classifier(), nullptr, &profile);
    EXPECT_EQ(r.format, "csv:crm-export");
    EXPECT_EQ(r.counts.imported, 2);
    EXPECT_EQ(r.counts.rejected, 1);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'delivered'"), 1);
    std::filesystem::remove(csv);
    std::filesystem::remove(profilePath);

    std::ofstream(profilePath) << R"({"columns": {"who": "Who"}})";
    EXPECT_THROW(bt::CsvProfile::load(profilePath.string()), std::runtime_error);
    std::filesystem::remove(profilePath);
}

TEST(Analysis, ProviderReportMatchesCountsComputedApart)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    for (const char* f : {"sendgrid-bounces.csv", "ses-notifications.jsonl", "postfix-mail.log"})
        bt::importPath(ws, (kData / f).string(), classifier());
    const auto rows = bt::groupReport(ws, bt::GroupBy::Provider);
    ASSERT_FALSE(rows.empty());
    std::int64_t bounces = 0;
    for (const auto& r : rows) {
        const std::string where = r.key == "(none)" ? "COALESCE(provider, '') = ''" : "provider = '" + r.key + "'";
        const auto b = scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'bounce' AND " + where);
        const auto d = scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'delivered' AND " + where);
        EXPECT_EQ(r.bounces, b) << r.key;
        EXPECT_EQ(r.deliveries, d) << r.key;
        // The rate of sent is over the rows of the sources that record deliveries (the Postfix
        // log, SES), never SendGrid's bounce export divided by their deliveries.
        const std::string recording = " AND import_id IN (SELECT id FROM imports WHERE format <> 'sendgrid_csv')";
        const auto rb = scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'bounce' AND " + where + recording);
        const auto rd
            = scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'delivered' AND " + where + recording);
        if (rb + rd > 0) {
            EXPECT_EQ(r.rateBasis, "sent") << r.key;
            EXPECT_DOUBLE_EQ(r.rate, double(rb) / double(rb + rd)) << r.key;
            EXPECT_EQ(r.level, bt::levelOf(r.rate));
        } else {
            EXPECT_EQ(r.rateBasis, "share") << r.key;
            EXPECT_TRUE(r.level.empty()) << r.key;
        }
        bounces += r.bounces;
    }
    EXPECT_EQ(bounces, scalar(ws, "SELECT COUNT(*) FROM events WHERE event_type = 'bounce'"));
    EXPECT_EQ(bt::levelOf(0.009), "low");
    EXPECT_EQ(bt::levelOf(0.01), "watch");
    EXPECT_EQ(bt::levelOf(0.031), "act");
}

TEST(Analysis, LiftedLaterAndSuppressions)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto csv = std::filesystem::temp_directory_path() / ("bt-lifted-" + std::to_string(::getpid()) + ".csv");
    std::ofstream(csv) << "created,email,reason,status,event\n"
                          "1700000000,a@example.net,554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked "
                          "using zen.spamhaus.org,5.7.1,bounce\n"
                          "1700003600,b@example.net,250 2.0.0 OK,2.0.0,delivered\n"
                          "1700000000,c@example.org,550 5.1.1 <c@example.org>: Recipient address rejected: User "
                          "unknown,5.1.1,bounce\n"
                          "1700000100,d@example.org,550 5.2.1 <d@example.org>: Recipient address rejected: This "
                          "mailbox is disabled,5.2.1,bounce\n"
                          "1700000200,e@example.org,452 4.2.2 <e@example.org>: Recipient address rejected: Mailbox "
                          "full,4.2.2,bounce\n"
                          "1700000300,f@example.org,450 4.2.1 <f@example.org>: mailbox temporarily disabled,4.2.1,"
                          "bounce\n";
    const auto r = bt::importPath(ws, csv.string(), classifier());
    std::filesystem::remove(csv);
    ASSERT_EQ(r.counts.imported, 6) << r.error;
    const auto rows = bt::groupReport(ws, bt::GroupBy::Domain);
    bool seen = false;
    for (const auto& row : rows)
        if (row.key == "example.net") {
            EXPECT_EQ(row.liftedLater, 1);
            seen = true;
        }
    EXPECT_TRUE(seen);
    // The unknown user and the disabled mailbox (a permanent 5.2.1, not a "hard bounce" by
    // Sisimai's convention, yet nobody reads it); not the full mailbox nor a temporary 4.2.1.
    const auto s = bt::suppressions(ws);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].address, "c@example.org");
    EXPECT_EQ(s[0].reason, "userunknown");
    EXPECT_EQ(s[1].address, "d@example.org");
    EXPECT_EQ(s[1].reason, "suspend");
}

// A forward's failure: the bounce names the address the alias forwarded to, but the sender's list
// holds the alias. The event keeps both, and the suppression list holds the alias it can act on.
TEST(Analysis, AForwardsFailureIsSuppressedUnderTheAddressTheSenderMailed)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto eml = std::filesystem::temp_directory_path() / ("bt-forward-" + std::to_string(::getpid()) + ".eml");
    std::ofstream(eml) << "From: MAILER-DAEMON@relay.university.example (Mail Delivery System)\n"
                          "To: news@sender.example\n"
                          "Subject: Undelivered Mail Returned to Sender\n"
                          "Date: Tue, 04 Jun 2024 14:22:08 +0000\n"
                          "\n"
                          "This is the mail system at host relay.university.example.\n"
                          "\n"
                          "<j.doe.1987@mailbox.example> (expanded from <J.Doe@alumni.university.example>): host\n"
                          "    mx.mailbox.example[192.0.2.20] said: 550 5.1.1 The email account that you\n"
                          "    tried to reach does not exist (in reply to RCPT TO command)\n"
                          "\n"
                          "<kim@university.example>: host mx.university.example[192.0.2.21] said: 550\n"
                          "    5.1.1 <kim@university.example>: Recipient address rejected: User unknown\n"
                          "    (in reply to RCPT TO command)\n";
    const auto r = bt::importPath(ws, eml.string(), classifier());
    std::filesystem::remove(eml);
    ASSERT_EQ(r.counts.imported, 2) << r.error;
    EXPECT_EQ(scalar(ws,
                     "SELECT COUNT(*) FROM events WHERE recipient = 'j.doe.1987@mailbox.example' AND "
                     "original_recipient = 'J.Doe@alumni.university.example'"),
              1);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE original_recipient IS NULL"), 1);
    const auto s = bt::suppressions(ws);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].address, "j.doe@alumni.university.example");
    EXPECT_EQ(s[0].forwardedTo, "j.doe.1987@mailbox.example");
    EXPECT_EQ(s[1].address, "kim@university.example");
    EXPECT_EQ(s[1].forwardedTo, "");
    // The details pane's record names both.
    const auto id = scalar(ws, "SELECT id FROM events WHERE original_recipient IS NOT NULL");
    const auto detail = bt::eventDetail(ws, id);
    ASSERT_TRUE(detail);
    EXPECT_EQ(detail->row.recipient, "j.doe.1987@mailbox.example");
    EXPECT_EQ(detail->originalRecipient, "J.Doe@alumni.university.example");
}

TEST(Analysis, ATenantDomainTakesTheProviderItsMxNamesAndAolCountsUnderYahoo)
{
    // A company domain hosted at Microsoft 365: its SendGrid-style bounces name no MX, the
    // Postfix log (imported later) delivers to its tenant MX. Every event of the domain then
    // counts under Microsoft, the earlier ones too; aol.com counts under Yahoo, whose servers
    // answer for it.
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto dir = std::filesystem::temp_directory_path();
    const auto csv = dir / ("bt-tenant-" + std::to_string(::getpid()) + ".csv");
    const auto log = dir / ("bt-tenant-" + std::to_string(::getpid()) + ".log");
    std::ofstream(csv)
        << "created,email,reason,status,event\n"
           "1700000000,ann@contoso-tenant.com,550 5.7.606 Access denied banned sending IP,5.7.606,bounce\n"
           "1700000100,bob@contoso-tenant.com,550 5.1.10 RESOLVER.ADR.RecipientNotFound,5.1.10,bounce\n"
           "1700000200,cy@aol.com,554 5.7.9 Message not accepted for policy reasons,5.7.9,bounce\n"
           "1700000300,dee@plain-unknown.org,550 5.1.1 User unknown,5.1.1,bounce\n";
    std::ofstream(log)
        << "Nov 14 22:20:00 mx1 postfix/qmgr[1200]: 0B1FD90A21: from=<news@shop.example.com>, size=5120, nrcpt=1 "
           "(queue active)\n"
           "Nov 14 22:20:01 mx1 postfix/smtp[31378]: 0B1FD90A21: to=<cat@contoso-tenant.com>, "
           "relay=contoso-tenant-com.mail.protection.outlook.com[192.0.2.7]:25, delay=0.5, delays=0.1/0/0.2/0.2, "
           "dsn=2.0.0, status=sent (250 2.6.0 <x@shop.example.com> Queued mail for delivery)\n";
    ASSERT_EQ(bt::importPath(ws, csv.string(), classifier()).counts.imported, 4);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE provider = 'Microsoft 365 / Outlook.com'"), 0);
    ASSERT_EQ(bt::importPath(ws, log.string(), classifier()).counts.imported, 1);
    std::filesystem::remove(csv);
    std::filesystem::remove(log);
    EXPECT_EQ(scalar(ws,
                     "SELECT COUNT(*) FROM events WHERE recipient_domain = 'contoso-tenant.com' AND provider = "
                     "'Microsoft 365 / Outlook.com'"),
              3);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE recipient_domain = 'aol.com' AND provider = 'Yahoo'"), 1);
    EXPECT_EQ(scalar(ws,
                     "SELECT COUNT(*) FROM events WHERE recipient_domain = 'plain-unknown.org' AND (provider IS "
                     "NULL OR provider = '')"),
              1)
        << "a domain no event shows the MX of stays without a provider";
    EXPECT_EQ(ws.learnProviders(classifier().knowledge()), 0) << "a second pass changes nothing";
}

TEST(Analysis, ABrandAnEmailNamesCountsUnderItsOperatorAndShowsBesideTheDomain)
{
    // Bounce emails from AOL's servers: the classifier knows AOL by its host and wording and
    // names the brand; the workspace counts them under Yahoo, whose servers answer for AOL, as
    // an ESP export of the same bounce would.
    if (!std::filesystem::exists(kCorpusBsd / "rhost-aol-03.eml"))
        GTEST_SKIP() << "no corpus at " << kCorpusBsd;
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    ASSERT_NO_FATAL_FAILURE(importCorpusEmails(ws, {"rhost-aol-03.eml", "lhost-postfix-66.eml"}));
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE provider = 'AOL'"), 0);
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE provider = 'Yahoo'"), 3);
    // The brand, for the domain column: by the domain, else by the receiving host.
    const auto& kb = classifier().knowledge();
    EXPECT_EQ(bt::brandFor(kb, "aol.com", ""), "AOL");
    EXPECT_EQ(bt::brandFor(kb, "aol.example.jp", "mx-aol.mail.gm0.yahoodns.net"), "AOL");
    EXPECT_EQ(bt::brandFor(kb, "yahoo.com", ""), "") << "an operator's own domain has no other brand";
    EXPECT_EQ(bt::brandFor(kb, "gmail.com", "gmail-smtp-in.l.google.com"), "");
    EXPECT_EQ(bt::brandFor(kb, "example.org", ""), "");
    // Every row the table pages through carries the receiving host it is told by.
    const auto rows = bt::eventPage(ws, {}, bt::EventColumn::Time, false, 0, 10);
    ASSERT_EQ(rows.size(), 3u);
    for (const auto& r : rows) {
        EXPECT_EQ(r.provider, "Yahoo");
        EXPECT_EQ(bt::brandFor(kb, r.domain, r.remoteMta), "AOL") << r.domain << " " << r.remoteMta;
    }
    EXPECT_EQ(ws.groupBrandsUnderOperators(kb), 0) << "a second pass changes nothing";
}

TEST(Workspace, RediagnoseAfterARulesUpdate)
{
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    bt::importPath(ws, (kData / "sendgrid-bounces.csv").string(), classifier());
    auto kb = bt::KnowledgeBase::loadDefault();
    kb->addRules(R"js({"format": "bouncetriage-rules/1", "rules": [{"id": "local.s3150", "reason": "badreputation",
        "patterns": ["\\(S3150\\)"], "priority": 99, "explanation": "e", "steps": ["s"], "examples": ["550 (S3150)"]}]})js",
                 "local.json");
    const bt::Classifier updated(kb);
    EXPECT_EQ(ws.rediagnose(updated), 1);
    EXPECT_EQ(
        scalar(ws, "SELECT COUNT(*) FROM events WHERE recipient = 'carol@outlook.com' AND reason = 'badreputation'"),
        1);
    EXPECT_EQ(ws.rediagnose(updated), 0) << "a second run changes nothing";
}

TEST(Workspace, RediagnoseWithTheSameKnowledgeKeepsWhatTheImportGave)
{
    // Bounce emails whose replies read otherwise pasted alone: the reply model would overrule
    // their rules, or the rule states another reading for bounce emails (bounce_email_reason:
    // Yahoo's "INVALID IP FOR SENDING MAIL OF DOMAIN", "552 Too many recipients"). At import a
    // bounce's reasons follow the corpus's conventions, and a re-diagnosis, which reads the
    // stored reply without its email, must agree.
    if (!std::filesystem::exists(kCorpusBsd / "lhost-postfix-41.eml"))
        GTEST_SKIP() << "no corpus at " << kCorpusBsd;
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    ASSERT_NO_FATAL_FAILURE(
        importCorpusEmails(ws,
                           {"lhost-postfix-41.eml", "lhost-exim-37.eml", "lhost-x2-05.eml", "lhost-amazonses-01.eml",
                            "lhost-yahoo-14.eml", "lhost-postfix-48.eml"}));
    int readOtherwiseAlone = 0;
    auto st = ws.db().prepare("SELECT reply_text, reason FROM events");
    while (st.step())
        readOtherwiseAlone += classifier().diagnoseText(st.text(0)).reason != st.text(1);
    ASSERT_GE(readOtherwiseAlone, 2) << "pasted alone, some of these replies read otherwise";
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE reason IS NULL OR reason = 'undefined'"), 0);
    EXPECT_EQ(ws.rediagnose(classifier()), 0);
}

TEST(ReplyTemplate, SameMessageForDifferentRecipientsClusters)
{
    const auto a = bt::replyTemplate("550 5.1.1 <alice@example.com>: Recipient address rejected: User unknown in "
                                     "virtual mailbox table");
    const auto b = bt::replyTemplate("550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in "
                                     "virtual mailbox table");
    EXPECT_EQ(a, b);
    EXPECT_NE(a.find("<email>"), std::string::npos) << a;
    EXPECT_EQ(a.rfind("550 5.1.1 ", 0), 0u) << "codes stay: " << a;
    const auto kb = bt::KnowledgeBase::loadDefault();
    const auto c = bt::replyTemplate("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
                                     "zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1 at 10:22:01",
                                     kb.get());
    EXPECT_EQ(c,
              bt::replyTemplate("554 5.7.1 Service unavailable; Client host [198.51.100.77] blocked using "
                                "zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.77 at 23:00:59",
                                kb.get()))
        << c;
    EXPECT_NE(c.find("[<ip>]"), std::string::npos) << c;
    EXPECT_NE(c.find("zen.spamhaus.org"), std::string::npos) << "a blocklist zone is part of the message: " << c;
    EXPECT_NE(c.find("<time>"), std::string::npos) << c;
    EXPECT_NE(bt::replyTemplate("550 5.1.1 <a@mx1.example.com> unknown").find("<email>"), std::string::npos);
    EXPECT_NE(bt::replyTemplate("421 mx7.example.net busy").find("<host>"), std::string::npos);
    EXPECT_EQ(bt::replyTemplate("550-5.1.1 x https://support.google.com/mail/?p=NoSuchUser a1b2c3d4e5.10 - gsmtp"),
              "550-5.1.1 x https://support.google.com/mail/?p=NoSuchUser <id> - gsmtp");
}

TEST(Workspace, ImportKilledMidFileLeavesAUsableWorkspaceAndCompletesOnRerun)
{
    TempWorkspace t;
    const auto csv = std::filesystem::temp_directory_path() / ("bt-kill-" + std::to_string(::getpid()) + ".csv");
    constexpr int kRows = 120000;
    {
        std::ofstream out(csv);
        out << "created,email,reason,status\n";
        for (int i = 0; i < kRows; ++i)
            out << 1700000000 + i << ",user" << i << "@example" << i % 50 << ".com,550 5.1.1 <user" << i
                << "@example.com>: Recipient address rejected: User unknown,5.1.1\n";
    }
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::execl(BT_CLI, BT_CLI, "import", "--workspace", t.path.c_str(), csv.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Wait until some batches are committed, then kill without warning.
    bool started = false;
    for (int i = 0; i < 600 && !started; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        try {
            bt::sql::Database db(t.path.string(), bt::sql::Access::ReadOnly);
            auto st = db.prepare("SELECT rows_read FROM imports");
            started = st.step() && st.int64(0) > 0;
        } catch (const std::exception&) {
        }
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(started) << "the import never committed a batch";
    ASSERT_TRUE(WIFSIGNALED(status)) << "the import finished before it could be killed";
    {
        // A file this size is loaded in bulk mode: killed mid-file, its secondary indexes are
        // still dropped (the full-text trigger never is: it goes and comes back in each batch).
        bt::sql::Database raw(t.path.string(), bt::sql::Access::ReadOnly);
        auto idx = raw.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
                               "AND sql IS NOT NULL");
        ASSERT_TRUE(idx.step());
        EXPECT_EQ(idx.int64(0), 0) << "bulk mode dropped the indexes";
        auto trig = raw.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_fts_insert'");
        ASSERT_TRUE(trig.step());
        EXPECT_EQ(trig.int64(0), 1);
    }
    auto ftsMatchesEvents = [](bt::Workspace& ws) {
        ws.db().exec("INSERT INTO events_fts(events_fts, rank) VALUES ('integrity-check', 1)");
        auto n = ws.db().prepare("SELECT (SELECT COUNT(*) FROM events_fts_docsize) = (SELECT COUNT(*) FROM events)");
        return n.step() && n.int64(0) == 1;
    };
    {
        bt::Workspace ws(t.path.string());
        EXPECT_TRUE(ws.missingIndexes().empty()) << "opening builds the indexes a killed bulk import dropped";
        EXPECT_TRUE(ftsMatchesEvents(ws));
        auto st = ws.db().prepare("PRAGMA integrity_check");
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.text(0), "ok");
        const auto partial = ws.eventCount();
        EXPECT_GT(partial, 0);
        EXPECT_LT(partial, kRows);
        const auto imports = ws.imports();
        ASSERT_EQ(imports.size(), 1u);
        EXPECT_EQ(imports[0].status, "running");
        EXPECT_EQ(imports[0].counts.imported, partial) << "committed counts match committed rows";

        // Run it again: the interrupted import is replaced by a complete one.
        const auto r = bt::importPath(ws, csv.string(), classifier());
        EXPECT_EQ(r.counts.read, kRows);
        EXPECT_EQ(r.counts.imported, kRows);
        EXPECT_EQ(r.counts.duplicate, 0);
        EXPECT_EQ(ws.eventCount(), kRows);
        const auto after = ws.imports();
        ASSERT_EQ(after.size(), 1u);
        EXPECT_EQ(after[0].status, "done");
        EXPECT_TRUE(ws.missingIndexes().empty());
        EXPECT_TRUE(ftsMatchesEvents(ws));
    }
    std::filesystem::remove(csv);
    EXPECT_FALSE(std::filesystem::exists(t.path.string() + "-bulk")) << "the lock file goes with the lock";
}

TEST(Workspace, BulkImportIndexesAndSearchesLikeRowByRow)
{
    // Big enough for bulk mode (indexes dropped and built again, full-text filled per batch),
    // then a small second file into the same workspace, row by row.
    TempWorkspace t;
    const auto dir = std::filesystem::temp_directory_path();
    const auto big = dir / ("bt-bulk-" + std::to_string(::getpid()) + ".csv");
    const auto more = dir / ("bt-bulk-more-" + std::to_string(::getpid()) + ".csv");
    constexpr int kRows = 40000;
    {
        std::ofstream a(big), b(more);
        a << "created,email,reason,status\n";
        b << "created,email,reason,status\n";
        for (int i = 0; i < kRows + 10; ++i) {
            std::ostringstream row;
            row << 1700000000 + i << ",user" << i << "@example" << i % 50 << ".com,\"552 5.2.2 <user" << i
                << "@example.com>: Mailbox full\",5.2.2\n";
            (i < kRows ? a : b) << row.str();
            if (i < 100)
                b << row.str(); // overlapping export: duplicates
        }
    }
    bt::Workspace ws(t.path.string());
    const auto r1 = bt::importPath(ws, big.string(), classifier());
    EXPECT_EQ(r1.counts.imported, kRows) << r1.error;
    const auto r2 = bt::importPath(ws, more.string(), classifier());
    EXPECT_EQ(r2.counts.read, 110);
    EXPECT_EQ(r2.counts.imported, 10);
    EXPECT_EQ(r2.counts.duplicate, 100);
    std::filesystem::remove(big);
    std::filesystem::remove(more);

    EXPECT_TRUE(ws.missingIndexes().empty());
    ws.db().exec("INSERT INTO events_fts(events_fts, rank) VALUES ('integrity-check', 1)");
    auto fts = ws.db().prepare("SELECT (SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH 'mailbox'), "
                               "(SELECT COUNT(*) FROM events WHERE reply_text LIKE '%mailbox%')");
    ASSERT_TRUE(fts.step());
    EXPECT_EQ(fts.int64(0), kRows + 10);
    EXPECT_EQ(fts.int64(1), kRows + 10);
    auto trig = ws.db().prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'");
    ASSERT_TRUE(trig.step());
    EXPECT_EQ(trig.int64(0), 3) << "the full-text triggers are all back";
    // One template for all, stored once; evidence in the JSON a library writes.
    auto tpl = ws.db().prepare("SELECT (SELECT COUNT(DISTINCT template_id) FROM events), "
                               "(SELECT COUNT(*) FROM templates)");
    ASSERT_TRUE(tpl.step());
    EXPECT_EQ(tpl.int64(0), 1);
    EXPECT_EQ(tpl.int64(1), 1);
    auto ev = ws.db().prepare("SELECT evidence FROM events WHERE evidence != '[]' LIMIT 1");
    ASSERT_TRUE(ev.step());
    const auto evidence = ev.text(0);
    EXPECT_EQ(evidence, nlohmann::json::parse(evidence).dump());
    EXPECT_FALSE(std::filesystem::exists(t.path.string() + "-bulk"));
}

TEST(Workspace, OpeningDuringALiveBulkLoadLeavesItsIndexesToIt)
{
    TempWorkspace t;
    bt::Workspace loader(t.path.string());
    ASSERT_TRUE(loader.beginBulkLoad(std::int64_t(1) << 30));
    EXPECT_FALSE(loader.missingIndexes().empty());
    {
        // Another window opening the file meanwhile: no index build behind the import's back,
        // and no second bulk load.
        bt::Workspace reader(t.path.string());
        EXPECT_FALSE(reader.missingIndexes().empty());
        EXPECT_FALSE(reader.beginBulkLoad(std::int64_t(1) << 30));
    }
    loader.endBulkLoad();
    EXPECT_TRUE(loader.missingIndexes().empty());
    EXPECT_FALSE(std::filesystem::exists(t.path.string() + "-bulk"));
}

TEST(Analysis, SampleWorkspaceShowsTheMicrosoftIncidentAndItsLifting)
{
    // The bundled sample's generator and the real importer, as the build makes the sample.
    TempWorkspace t;
    const auto ses = std::filesystem::temp_directory_path() / ("bt-sample-" + std::to_string(::getpid()) + ".jsonl");
    ASSERT_EQ(std::system((std::string(BT_SAMPLEGEN) + " --ses '" + ses.string() + "'").c_str()), 0);
    bt::Workspace ws(t.path.string());
    const auto r = bt::importPath(ws, ses.string(), classifier());
    std::filesystem::remove(ses);
    ASSERT_GT(r.counts.imported, 5000) << r.error;
    EXPECT_EQ(r.counts.rejected, 0);

    // The planted Microsoft block (S3150, 10:00 to 15:59 on 2026-03-09) is one incident, from its
    // first to its last hour, lifted when deliveries to Microsoft resume.
    const auto spikes = bt::incidents(ws, bt::GroupBy::Provider);
    ASSERT_EQ(spikes.size(), 1u);
    const auto& block = spikes.front();
    EXPECT_EQ(block.key, "Microsoft 365 / Outlook.com");
    EXPECT_EQ(block.family, "reputation");
    EXPECT_EQ(block.bucket, "2026-03-09T10");
    EXPECT_EQ(block.end, "2026-03-09T15");
    EXPECT_EQ(block.buckets, 6);
    EXPECT_GE(block.peakBounces * 6, block.bounces);
    EXPECT_GT(block.rate, 0.0);
    EXPECT_GT(block.lifted, block.end);
    // The same from the in-memory counts the window uses.
    EXPECT_EQ(bt::EventCube::build(ws).incidents(bt::GroupBy::Provider, {}, true).size(), 1u);
    // Deliveries to the same domains resume after the block: every block was lifted later.
    std::int64_t lifted = 0, reputation = 0;
    for (const auto& g : bt::groupReport(ws, bt::GroupBy::Provider))
        if (g.key == "Microsoft 365 / Outlook.com") {
            lifted = g.liftedLater;
            reputation = g.families.count("reputation") ? g.families.at("reputation") : 0;
            EXPECT_EQ(g.rateBasis, "sent");
            EXPECT_NE(g.level, "low");
        }
    EXPECT_GT(reputation, 0);
    EXPECT_EQ(lifted, reputation);
}
