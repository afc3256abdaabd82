// SPDX-License-Identifier: MIT
// Watched sources read incrementally: a maildir whose messages arrive and move, a folder, and a
// Postfix log followed across a rename-rotation, a copytruncate, a compressed rotation and a line
// still being written. Real files on disk, a real workspace; the counts compared with what was
// written. And the alerts: a planted burst arriving through the maildir raises exactly one.
#include "alerts.h"
#include "dnsserver.h"
#include "imapserver.h"
#include "monitor.h"
#include "plantedbounces.h"
#include "testsupport.h"
#include "watch.h"
#include "workspace.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>
#include <zlib.h>

namespace fs = std::filesystem;
using namespace testsupport;

namespace
{

const fs::path kCorpus = fs::path(BT_SHARED_DIR) / "corpus" / "sisimai" / "maildir" / "bsd";

/// A folder in the temp folder, removed before and after.
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& name)
    {
        path = fs::temp_directory_path() / ("bt-watch-" + std::to_string(::getpid()) + "-" + name);
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

/// Delivers a file into a maildir the way an MTA does: written in tmp/, renamed into new/.
void deliver(const fs::path& maildir, const fs::path& message, const std::string& uniqueName)
{
    fs::copy_file(message, maildir / "tmp" / uniqueName);
    fs::rename(maildir / "tmp" / uniqueName, maildir / "new" / uniqueName);
}

std::int64_t events(bt::Workspace& ws)
{
    return scalar(ws, "SELECT COUNT(*) FROM events");
}

bt::SourceRead readOne(bt::Workspace& ws, std::int64_t id, bt::WatchOptions o = {})
{
    const auto s = bt::findSource(ws, std::to_string(id));
    EXPECT_TRUE(s.has_value());
    return bt::readSource(ws, classifier(), *s, o);
}

} // namespace

TEST(WatchUri, ParsedAndWrittenOneWay)
{
    const auto imaps = bt::SourceUri::parse("imaps://bounces@mail.example.com/Bounces");
    EXPECT_EQ(imaps.kind, "imap");
    EXPECT_TRUE(imaps.implicitTls);
    EXPECT_EQ(imaps.port, 993);
    EXPECT_EQ(imaps.user, "bounces");
    EXPECT_EQ(imaps.mailbox, "Bounces");
    EXPECT_EQ(imaps.text(), "imaps://bounces@mail.example.com:993/Bounces");
    const auto imap = bt::SourceUri::parse("IMAP://a.b@[::1]:1143");
    EXPECT_EQ(imap.host, "::1");
    EXPECT_EQ(imap.port, 1143);
    EXPECT_EQ(imap.mailbox, "INBOX");
    EXPECT_EQ(imap.text(), "imap://a.b@[::1]:1143/INBOX");
    EXPECT_EQ(bt::SourceUri::parse("log:/var/log/./mail.log").text(), "log:/var/log/mail.log");
    EXPECT_EQ(bt::SourceUri::parse("folder:///srv/bounces/").text(), "folder:/srv/bounces");
    for (const char* bad : {"mail.log", "ftp://x/y", "imaps://host/INBOX", "imap://u:secret@host/INBOX",
                            "imap://u@host:99999/INBOX", "log:"}) {
        EXPECT_THROW(bt::SourceUri::parse(bad), std::invalid_argument) << bad;
    }
    try {
        bt::SourceUri::parse("imap://u:secret@host/INBOX");
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << "a password is never echoed";
    }
}

TEST(WatchSources, AddedOnceCheckedAndRemoved)
{
    TempWorkspace t;
    TempDir d("add");
    planted::makeMaildir(d.path / "md");
    bt::Workspace ws(t.path.string());
    const auto id = bt::addSource(ws, "maildir:" + (d.path / "md").string());
    EXPECT_THROW(bt::addSource(ws, "maildir:" + (d.path / "md" / ".").string()), std::invalid_argument)
        << "the same folder written another way is the same source";
    EXPECT_THROW(bt::addSource(ws, "maildir:" + d.path.string()), std::runtime_error) << "no new/ or cur/";
    EXPECT_THROW(bt::addSource(ws, "log:" + (d.path / "none.log").string()), std::runtime_error);
    EXPECT_THROW(bt::addSource(ws, "log:" + d.path.string()), std::runtime_error) << "a folder is no log";
    EXPECT_THROW(bt::addSource(ws, "folder:" + d.path.string(), "[1]"), std::invalid_argument);
    ASSERT_EQ(bt::watchSources(ws).size(), 1u);
    EXPECT_TRUE(bt::pauseSource(ws, std::to_string(id), true));
    EXPECT_TRUE(bt::watchSources(ws)[0].paused);
    EXPECT_TRUE(bt::readSources(ws, classifier()).empty()) << "a paused source is not read";
    EXPECT_TRUE(bt::pauseSource(ws, "maildir:" + (d.path / "md").string(), false));
    EXPECT_TRUE(bt::removeSource(ws, std::to_string(id)));
    EXPECT_FALSE(bt::removeSource(ws, std::to_string(id)));
    EXPECT_TRUE(bt::watchSources(ws).empty());
}

TEST(WatchMaildir, EachMessageReadOnceAcrossMovesAndRestarts)
{
    TempWorkspace t;
    TempDir d("maildir");
    const fs::path md = d.path / "bounces";
    planted::makeMaildir(md);
    const std::vector<std::string> files
        = {"lhost-postfix-01.eml", "lhost-exim-01.eml", "lhost-sendmail-01.eml", "lhost-qmail-01.eml"};
    // What importing the same messages at once gives: the reference.
    TempWorkspace reference;
    TempDir all("maildir-all");
    for (const auto& f : files)
        fs::copy_file(kCorpus / f, all.path / f);
    std::int64_t expected = 0;
    {
        bt::Workspace ref(reference.path.string());
        expected = bt::importPath(ref, all.path.string(), classifier()).counts.imported;
    }
    ASSERT_GT(expected, 3);

    std::int64_t id = 0;
    {
        bt::Workspace ws(t.path.string());
        id = bt::addSource(ws, "maildir:" + md.string());
        EXPECT_EQ(readOne(ws, id).items, 0) << "an empty maildir";
        deliver(md, kCorpus / files[0], "1700000000.M1P1.host");
        deliver(md, kCorpus / files[1], "1700000001.M2P1.host");
        const auto first = readOne(ws, id);
        EXPECT_TRUE(first.error.empty()) << first.error;
        EXPECT_EQ(first.items, 2);
        EXPECT_GT(first.counts.imported, 0);
        EXPECT_EQ(readOne(ws, id).items, 0) << "nothing new: nothing read";
        // A mail client reads one: new/ → cur/ with flags. The same message, not a new one.
        fs::rename(md / "new" / "1700000000.M1P1.host", md / "cur" / "1700000000.M1P1.host:2,S");
        const auto moved = readOne(ws, id);
        EXPECT_EQ(moved.items, 0);
        EXPECT_TRUE(moved.imports.empty()) << "no import at all for a moved message";
        // A message still in tmp/ is a delivery in progress.
        fs::copy_file(kCorpus / files[2], md / "tmp" / "1700000002.M3P1.host");
        EXPECT_EQ(readOne(ws, id).items, 0);
    }
    {
        // A restart: the next run reads on from where the last one stopped.
        bt::Workspace ws(t.path.string());
        fs::rename(md / "tmp" / "1700000002.M3P1.host", md / "new" / "1700000002.M3P1.host");
        deliver(md, kCorpus / files[3], "1700000003.M4P1.host");
        const auto later = readOne(ws, id);
        EXPECT_EQ(later.items, 2);
        EXPECT_EQ(later.counts.duplicate, 0) << "nothing read twice";
        EXPECT_EQ(events(ws), expected) << "the same events as one import of the four messages";
        const auto s = bt::findSource(ws, std::to_string(id));
        EXPECT_EQ(s->items, 4);
        EXPECT_EQ(s->events, expected);
        EXPECT_TRUE(s->lastError.empty());
        EXPECT_FALSE(s->lastRead.empty());
    }
}

TEST(WatchFolder, NewFilesAndAFileStillBeingWritten)
{
    TempWorkspace t;
    TempDir d("folder");
    bt::Workspace ws(t.path.string());
    const auto id = bt::addSource(ws, "folder:" + d.path.string());
    fs::copy_file(kCorpus / "lhost-postfix-01.eml", d.path / "a.eml");
    fs::copy_file(fs::path(BT_TEST_DATA) / "postfix-mail.log", d.path / "mail.log");
    bt::WatchOptions settle;
    settle.settleSeconds = 3600; // every file is "just written"
    const auto fresh = readOne(ws, id, settle);
    EXPECT_EQ(fresh.items, 0) << "a file changed a moment ago may still be being written";
    EXPECT_EQ(fresh.settling, 2) << "and the look says so, so the watcher comes back soon";
    bt::WatchOptions now;
    now.settleSeconds = 0;
    const auto r = readOne(ws, id, now);
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.items, 2);
    ASSERT_EQ(r.imports.size(), 2u) << "a log in the folder is imported as a log, the e-mail as e-mail";
    std::set<std::string> formats;
    for (const auto& i : r.imports)
        formats.insert(i.format);
    EXPECT_EQ(formats, (std::set<std::string> {"email", "postfix_log"}));
    EXPECT_EQ(readOne(ws, id, now).items, 0);
}

namespace
{

/// A Postfix log written as Postfix writes it: per message a qmgr line with the sender, then a
/// delivery line per recipient, the wording of the real lines in tests/data/postfix-mail.log.
class PostfixWriter
{
public:
    explicit PostfixWriter(fs::path path)
        : m_path(std::move(path))
    {
    }
    /// Appends `messages` messages (one qmgr line and one delivery line each); returns the
    /// delivery lines written. `cutLast`: the last line is written without its line end.
    int append(int messages, bool cutLast = false)
    {
        std::ofstream out(m_path, std::ios::app | std::ios::binary);
        std::string text;
        for (int i = 0; i < messages; ++i) {
            const int n = m_next++;
            char queue[16];
            std::snprintf(queue, sizeof queue, "%010X", 0x1000 + n);
            const int minute = n % 60, hour = 8 + (n / 60) % 12;
            char stamp[32];
            std::snprintf(stamp, sizeof stamp, "Apr 11 %02d:%02d:%02d", hour, minute, n % 60);
            text += std::string(stamp) + " mx1 postfix/qmgr[1200]: " + queue + ": from=<news" + std::to_string(n % 3)
                + "@shop.example.com>, size=5120, nrcpt=1 (queue active)\n";
            const std::string to = "user" + std::to_string(n) + (n % 2 ? "@gmail.com" : "@example.ru");
            if (n % 3 == 0)
                text += std::string(stamp) + " mx1 postfix/smtp[31378]: " + queue + ": to=<" + to
                    + ">, relay=mx.example.ru[192.0.2.1]:25, delay=0.19, delays=0.15/0.01/0.01/0.03, dsn=5.1.1, "
                      "status=bounced (host mx.example.ru[192.0.2.1] said: 550 5.1.1 <"
                    + to + ">: Recipient address rejected: User unknown (in reply to RCPT TO command))\n";
            else
                text += std::string(stamp) + " mx1 postfix/smtp[31378]: " + queue + ": to=<" + to
                    + ">, relay=gmail-smtp-in.l.google.com[192.0.2.27]:25, delay=0.54, delays=0.01/0/0.41/0.12, "
                      "dsn=2.0.0, status=sent (250 2.0.0 OK 1440513425 ph9si16159802lbb.120 - gsmtp)\n";
        }
        if (cutLast) {
            text.pop_back();
            m_pending = true;
        }
        out << text;
        return messages;
    }
    /// Ends a line left without its line end.
    void finishLine()
    {
        std::ofstream out(m_path, std::ios::app | std::ios::binary);
        out << "\n";
        m_pending = false;
    }

private:
    fs::path m_path;
    int m_next = 0;
    bool m_pending = false;
};

void gzipFile(const fs::path& from, const fs::path& to)
{
    std::ifstream in(from, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string data = ss.str();
    gzFile gz = gzopen(to.c_str(), "wb");
    ASSERT_NE(gz, nullptr);
    gzwrite(gz, data.data(), static_cast<unsigned>(data.size()));
    gzclose(gz);
    fs::remove(from);
}

} // namespace

TEST(WatchLog, FollowedAcrossRotationsWithoutLosingOrRepeatingALine)
{
    TempWorkspace t;
    TempDir d("log");
    const fs::path log = d.path / "mail.log";
    PostfixWriter writer(log);
    int written = writer.append(20);
    std::int64_t id = 0;
    {
        bt::Workspace ws(t.path.string());
        id = bt::addSource(ws, "log:" + log.string());
        auto r = readOne(ws, id);
        ASSERT_TRUE(r.error.empty()) << r.error;
        EXPECT_EQ(r.items, 40) << "every line of the file, qmgr lines included";
        EXPECT_EQ(events(ws), written);

        // Lines appended, the last one still being written: it waits for its line end.
        written += writer.append(10, true);
        r = readOne(ws, id);
        EXPECT_EQ(r.items, 19);
        EXPECT_EQ(events(ws), written - 1);
        writer.finishLine();
        r = readOne(ws, id);
        EXPECT_EQ(r.items, 1);
        EXPECT_EQ(events(ws), written);

        // Rename rotation (logrotate's default): lines written to the old file after the last
        // look are read from mail.log.1, then the new file from its start.
        written += writer.append(5);
        fs::rename(log, d.path / "mail.log.1");
        written += writer.append(7);
        r = readOne(ws, id);
        EXPECT_TRUE(r.error.empty()) << r.error;
        EXPECT_NE(r.note.find("renamed"), std::string::npos) << r.note;
        EXPECT_EQ(r.items, 24);
        EXPECT_EQ(events(ws), written);
    }
    {
        // A restart, then copytruncate: the file copied to mail.log.1 (replacing the older one)
        // and emptied in place; new lines start again at byte 0 of the same inode.
        bt::Workspace ws(t.path.string());
        written += writer.append(6);
        fs::copy_file(log, d.path / "mail.log.1", fs::copy_options::overwrite_existing);
        fs::resize_file(log, 0);
        written += writer.append(3);
        auto r = readOne(ws, id);
        EXPECT_TRUE(r.error.empty()) << r.error;
        EXPECT_NE(r.note.find("truncated"), std::string::npos) << r.note;
        EXPECT_EQ(events(ws), written);

        // Rotated and compressed before the next look (no delaycompress): the rest is read from
        // mail.log.1.gz, found by its first line.
        written += writer.append(4);
        fs::remove(d.path / "mail.log.1");
        fs::rename(log, d.path / "mail.log.1");
        gzipFile(d.path / "mail.log.1", d.path / "mail.log.1.gz");
        written += writer.append(2);
        r = readOne(ws, id);
        EXPECT_TRUE(r.error.empty()) << r.error;
        EXPECT_NE(r.note.find("mail.log.1.gz"), std::string::npos) << r.note;
        EXPECT_EQ(events(ws), written);
        EXPECT_EQ(readOne(ws, id).items, 0);

        // No line stored twice, none lost: every delivery line is one event with its own line.
        EXPECT_EQ(scalar(ws, "SELECT COUNT(DISTINCT raw) FROM events"), written);
        EXPECT_EQ(scalar(ws, "SELECT SUM(duplicate) FROM imports"), 0);
        // The sender comes from the qmgr line, which may have been read in an earlier look.
        EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE envelope_sender LIKE 'news%@shop.example.com'"),
                  written);
        const auto s = bt::findSource(ws, std::to_string(id));
        EXPECT_EQ(s->events, written);
    }
}

TEST(WatchLog, AFileThatIsNoMailLogIsSaidToBe)
{
    TempWorkspace t;
    TempDir d("notalog");
    const fs::path f = d.path / "notes.txt";
    std::ofstream(f) << "shopping list\nmilk\n";
    bt::Workspace ws(t.path.string());
    const auto id = bt::addSource(ws, "log:" + f.string());
    const auto r = readOne(ws, id);
    EXPECT_NE(r.error.find("not a Postfix or Exim log"), std::string::npos) << r.error;
    const auto s = bt::findSource(ws, std::to_string(id));
    EXPECT_EQ(s->failures, 1);
    EXPECT_EQ(s->lastError, r.error);
}

TEST(WatchAlerts, APlantedBurstThroughTheMaildirRaisesExactlyOneIncident)
{
    TempWorkspace t;
    TempDir d("alerts");
    const fs::path md = d.path / "md";
    planted::makeMaildir(md);
    const fs::path hookOut = d.path / "hook.jsonl";
    bt::Workspace ws(t.path.string());
    bt::AlertRules rules;
    rules.hook = "cat >> '" + hookOut.string() + "'";
    rules.save(ws);
    const auto id = bt::addSource(ws, "maildir:" + md.string());
    bt::takeAlertBaseline(ws, bt::AlertRules::load(ws));
    // Background: one unknown-user bounce at Gmail an hour, for six hours.
    int n = planted::plantBackground(md, 0);
    auto r = readOne(ws, id);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.counts.imported, 6);
    EXPECT_TRUE(bt::evaluateAlerts(ws, bt::AlertRules::load(ws)).empty()) << "background alone is no incident";
    // The burst: twelve reputation blocks in one hour.
    n = planted::plantBurst(md, n);
    r = readOne(ws, id);
    EXPECT_EQ(r.counts.imported, 12);
    const auto loaded = bt::AlertRules::load(ws);
    auto raised = bt::evaluateAlerts(ws, loaded);
    if (raised.size() != 1)
        for (const auto& a : raised)
            std::cerr << a.subject << " | " << a.title << " | " << a.detail << "\n";
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_EQ(raised[0].rule, "incident");
    EXPECT_EQ(raised[0].subject, "provider Gmail");
    EXPECT_NE(raised[0].title.find("12"), std::string::npos) << raised[0].title;
    EXPECT_EQ(bt::runAlertHook(loaded.hook, raised[0]), "");
    // Nothing new: nothing raised again; the burst growing in the same hour is the same incident.
    EXPECT_TRUE(bt::evaluateAlerts(ws, loaded).empty());
    planted::deliverDsn(md, n++, "c@gmail.com", "Tue, 3 Mar 2026 12:59:00 +0000", "5.7.1",
                        "550-5.7.1 Our system has detected that this message is likely suspicious due to the very low "
                        "reputation of the sending IP address.");
    readOne(ws, id);
    EXPECT_TRUE(bt::evaluateAlerts(ws, loaded).empty());
    // The hook got the alert as JSON on its standard input.
    std::ifstream in(hookOut);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["rule"], "incident");
    EXPECT_EQ(j["facts"]["key"], "Gmail");
    EXPECT_EQ(j["facts"]["family"], "reputation");
    EXPECT_FALSE(std::getline(in, line)) << "one alert, one hook call";
    // History and acknowledgement.
    ASSERT_EQ(bt::alertHistory(ws, true).size(), 1u);
    EXPECT_EQ(bt::acknowledgeAlerts(ws, std::to_string(raised[0].id)), 1);
    EXPECT_TRUE(bt::alertHistory(ws, true).empty());
    EXPECT_EQ(bt::alertHistory(ws).size(), 1u);
}

TEST(WatchAlerts, WhatWasTrueBeforeWatchingIsNoNews)
{
    TempWorkspace t;
    TempDir d("baseline");
    bt::Workspace ws(t.path.string());
    // A workspace that already holds an incident, imported the ordinary way.
    const fs::path md = d.path / "md";
    planted::makeMaildir(md);
    int n = 0;
    for (int h = 0; h < 5; ++h) {
        char date[64];
        std::snprintf(date, sizeof date, "Tue, 3 Mar 2026 %02d:10:00 +0000", 6 + h);
        const int k = n++;
        planted::deliverDsn(md, k, planted::gmailAddress('u', k), date, "5.1.1", "550 5.1.1 user unknown");
    }
    for (int i = 0; i < 10; ++i) {
        const int k = n++;
        planted::deliverDsn(md, k, planted::gmailAddress('b', k), "Tue, 3 Mar 2026 12:30:00 +0000", "5.7.1",
                            "550 5.7.1 Service unavailable; client host [192.0.2.9] blocked using zen.spamhaus.org");
    }
    ASSERT_GT(bt::importPath(ws, md.string(), classifier()).counts.imported, 0);
    EXPECT_TRUE(bt::evaluateAlerts(ws, {}).empty()) << "the first evaluation takes the baseline";
    EXPECT_TRUE(bt::evaluateAlerts(ws, {}).empty());
    EXPECT_TRUE(bt::alertHistory(ws).empty()) << "baseline alerts are not shown as alerts";
    EXPECT_GT(scalar(ws, "SELECT COUNT(*) FROM alerts WHERE baseline = 1"), 0);
}

TEST(WatchAlerts, RulesRoundTripAndBadRulesAreNamed)
{
    bt::AlertRules r;
    r.warnRate = 0.02;
    r.hook = "logger -t bounces";
    const auto back = bt::AlertRules::fromJson(r.toJson());
    EXPECT_EQ(back.warnRate, 0.02);
    EXPECT_EQ(back.hook, "logger -t bounces");
    try {
        bt::AlertRules::fromJson(R"({"warn_rate": 5})");
        FAIL() << "a rate of 500 % is refused";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("warn_rate"), std::string::npos) << e.what();
    }
    EXPECT_THROW(bt::AlertRules::fromJson(R"({"wran_rate": 0.01})"), std::invalid_argument);
    EXPECT_THROW(bt::AlertRules::fromJson(R"({"warn_rate": 0.05, "act_rate": 0.03})"), std::invalid_argument);
}

TEST(WatchAlerts, AHookThatFailsOrHangsIsReportedNotFatal)
{
    bt::Alert a;
    a.id = 7;
    a.title = "test";
    EXPECT_EQ(bt::runAlertHook("exit 0", a), "");
    EXPECT_EQ(bt::runAlertHook("echo nope >&2; exit 3", a), "exit status 3: nope");
    EXPECT_EQ(bt::runAlertHook("sleep 30", a, 1), "killed after 1 s");
    EXPECT_EQ(bt::runAlertHook("exec 0<&-; exit 0", a), "") << "a hook that does not read its input";
}

namespace
{

const char* kListedZone = R"(
    local-zone: "zen.spamhaus.org." static
    local-zone: "." refuse
    # RFC 5782's test point, which tells that the list answers this resolver, and a listed IP.
    local-data: '2.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.2'
    local-data: '10.2.0.192.zen.spamhaus.org. 300 IN A 127.0.0.3'
)";
const char* kDelistedZone = R"(
    local-zone: "zen.spamhaus.org." static
    local-zone: "." refuse
    local-data: '2.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.2'
)";

} // namespace

TEST(WatchMonitor, ListedThenDelistedGivesTwoHistoryEntriesAndOneAlert)
{
    testdns::DnsServer listed, delisted, silent;
    listed.start(kListedZone);
    delisted.start(kDelistedZone);
    ASSERT_TRUE(listed.error.empty()) << listed.error;
    ASSERT_TRUE(delisted.error.empty()) << delisted.error;
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    bt::addMonitored(ws, "192.0.2.10");
    EXPECT_THROW(bt::addMonitored(ws, "not a name"), std::invalid_argument);
    bt::CheckOptions o;
    o.blocklistZones = {"zen.spamhaus.org"};
    o.timeoutMs = 1500;
    const bt::AlertRules rules;
    std::vector<bt::Alert> raised;

    o.dnsServer = listed.address();
    auto changes = bt::checkListings(ws, o, 0, rules, &raised);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_TRUE(changes[0].listed);
    EXPECT_EQ(changes[0].zone, "zen.spamhaus.org");
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_EQ(raised[0].rule, "listed");
    EXPECT_EQ(raised[0].subject, "ip 192.0.2.10");
    EXPECT_EQ(bt::monitoredNames(ws)[0].listedOn, std::vector<std::string> {"zen.spamhaus.org"});
    // Still listed: no change, no second alert; not due within the interval: not even asked.
    EXPECT_TRUE(bt::checkListings(ws, o, 0, rules, &raised).empty());
    EXPECT_TRUE(bt::checkListings(ws, o, 60, rules, &raised).empty());
    // A resolver that gives no answer says nothing about the listing: it stays open, and the
    // round stops at the first name without an answer, which stays due (and those after it).
    bt::addMonitored(ws, "192.0.2.11");
    const std::string checkedBefore = bt::monitoredNames(ws)[0].lastChecked;
    o.dnsServer = listed.blackhole();
    o.timeoutMs = 300;
    o.deadlineMs = 2000;
    EXPECT_TRUE(bt::checkListings(ws, o, 0, rules, &raised).empty());
    EXPECT_EQ(bt::monitoredNames(ws)[0].listedOn.size(), 1u);
    EXPECT_EQ(bt::monitoredNames(ws)[0].lastChecked, checkedBefore) << "still due";
    EXPECT_TRUE(bt::monitoredNames(ws)[1].lastChecked.empty()) << "never asked";
    bt::removeMonitored(ws, "192.0.2.11");
    // Delisted.
    o.dnsServer = delisted.address();
    o.timeoutMs = 1500;
    changes = bt::checkListings(ws, o, 0, rules, &raised);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_FALSE(changes[0].listed);
    EXPECT_EQ(raised.size(), 1u) << "delisting is history, not an alert";
    const auto entries = bt::listingEntries(ws);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_FALSE(entries[0].listed) << "newest first";
    EXPECT_TRUE(entries[1].listed);
    EXPECT_NE(entries[1].answer.find("127.0.0.3"), std::string::npos) << entries[1].answer;
    EXPECT_LE(entries[1].at, entries[0].at);
    EXPECT_TRUE(bt::monitoredNames(ws)[0].listedOn.empty());
    EXPECT_EQ(bt::alertHistory(ws).size(), 1u);
}

TEST(WatchCli, SourceAddWatchOnceAndList)
{
    TempWorkspace t;
    TempDir d("cli");
    const fs::path md = d.path / "md";
    planted::makeMaildir(md);
    deliver(md, kCorpus / "lhost-postfix-01.eml", "1700000000.M1P1.host");
    const std::string cli = BT_CLI, ws = t.path.string();
    auto r = shell(cli + " source add --workspace " + ws + " maildir:" + md.string());
    ASSERT_EQ(r.exitCode, 0) << r.out;
    r = shell(cli + " source add --workspace " + ws + " maildir:" + md.string());
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_NE(r.out.find("already watched"), std::string::npos) << r.out;
    r = shell(cli + " watch --workspace " + ws + " --once --no-monitor --json");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
    EXPECT_EQ(j["items"], 1);
    EXPECT_GT(j["imported"].get<int>(), 0);
    r = shell(cli + " watch --workspace " + ws + " --once --no-monitor --json");
    EXPECT_EQ(nlohmann::json::parse(r.out.substr(0, r.out.find('\n')))["items"], 0) << r.out;
    r = shell(cli + " source list --workspace " + ws + " --json");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_EQ(nlohmann::json::parse(r.out)["items"], 1);
    r = shell(cli + " source remove --workspace " + ws + " 1");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    r = shell(cli + " source remove --workspace " + ws + " 1");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    r = shell(cli + " alerts --workspace " + ws + " --show-rules");
    EXPECT_NE(r.out.find("\"warn_rate\": 0.01"), std::string::npos) << r.out;
}

TEST(WatchSources, ASchemaSevenWorkspaceGainsTheWatchTablesAndKeepsItsEvents)
{
    TempWorkspace t;
    {
        bt::Workspace ws(t.path.string());
        bt::importPath(ws, (fs::path(BT_TEST_DATA) / "postfix-mail.log").string(), classifier());
        // The file as schema 7 left it.
        ws.db().exec("DROP TABLE watch_seen; DROP TABLE watch_sources; DROP TABLE alerts; DROP TABLE settings; "
                     "DROP TABLE monitored; DROP TABLE listings; PRAGMA user_version=7");
    }
    std::int64_t before = 0;
    {
        bt::Workspace old(t.path.string(), bt::Workspace::Mode::View);
        EXPECT_EQ(old.schemaVersion(), 7);
        before = events(old);
        EXPECT_TRUE(bt::watchSources(old).empty()) << "viewed as it is: no tables, no sources";
        EXPECT_TRUE(bt::alertHistory(old).empty());
        EXPECT_THROW(bt::addSource(old, "log:/var/log/mail.log"), std::runtime_error);
    }
    bt::Workspace ws(t.path.string());
    EXPECT_EQ(ws.schemaVersion(), bt::Workspace::kSchemaVersion);
    EXPECT_EQ(events(ws), before);
    TempDir d("schema7");
    planted::makeMaildir(d.path / "md");
    EXPECT_GT(bt::addSource(ws, "maildir:" + (d.path / "md").string()), 0);
}

namespace
{

/// An IMAP source on the test server: plain text on loopback (the client refuses it elsewhere).
std::int64_t addImapSource(bt::Workspace& ws, const testimap::ImapServer& server, const std::string& options = {})
{
    nlohmann::json o = options.empty() ? nlohmann::json::object() : nlohmann::json::parse(options);
    o["tls"] = "none";
    o["timeout"] = 5;
    return bt::addSource(ws,
                         std::string("imap://") + testimap::ImapServer::kUser
                             + "@127.0.0.1:" + std::to_string(server.port) + "/INBOX",
                         o.dump());
}

bt::WatchOptions withPassword(const std::string& password)
{
    bt::WatchOptions o;
    o.password = [password](const bt::WatchSource&) { return password; };
    return o;
}

} // namespace

TEST(WatchImap, EachMessageImportedOnceAcrossRestartsAndAUidValidityChange)
{
    if (!testimap::dovecotInstalled())
        GTEST_SKIP() << testimap::kDovecot << " is missing: install dovecot-imapd (packaging/setup.sh does)";
    testimap::ImapServer server;
    server.start();
    ASSERT_TRUE(server.error.empty()) << server.error;
    const std::vector<std::string> files = {"lhost-postfix-01.eml", "lhost-exim-01.eml", "lhost-sendmail-01.eml"};
    // The reference: the three messages imported at once.
    TempWorkspace reference;
    TempDir all("imap-all");
    for (const auto& f : files)
        fs::copy_file(kCorpus / f, all.path / f);
    std::int64_t expected = 0;
    {
        bt::Workspace ref(reference.path.string());
        expected = bt::importPath(ref, all.path.string(), classifier()).counts.imported;
    }
    TempWorkspace t;
    std::int64_t id = 0;
    const auto good = withPassword(testimap::ImapServer::kPassword);
    {
        bt::Workspace ws(t.path.string());
        id = addImapSource(ws, server);
        server.deliverFile(kCorpus / files[0]);
        server.deliverFile(kCorpus / files[1]);
        auto r = readOne(ws, id, good);
        ASSERT_TRUE(r.error.empty()) << r.error;
        EXPECT_EQ(r.items, 2);
        EXPECT_EQ(readOne(ws, id, good).items, 0) << "nothing new";
        // Appended while watching.
        server.deliverFile(kCorpus / files[2]);
    }
    {
        // A restart of the watcher: the new message only.
        bt::Workspace ws(t.path.string());
        auto r = readOne(ws, id, good);
        ASSERT_TRUE(r.error.empty()) << r.error;
        EXPECT_EQ(r.items, 1);
        EXPECT_EQ(r.counts.duplicate, 0);
        EXPECT_EQ(events(ws), expected) << "the same events as one import of the three messages";
        // Events name the mailbox and UID they came from.
        EXPECT_EQ(
            scalar(ws, "SELECT COUNT(*) FROM events WHERE source_file LIKE 'imap://bounces@127.0.0.1:%/INBOX;UID=%'"),
            expected);
        EXPECT_EQ(server.files().size(), 3u) << "the messages stay where they are without move_to";

        // The mailbox made again: new UIDVALIDITY, UIDs from 1. Read again; nothing stored twice.
        server.recreateInbox();
        for (const auto& f : files)
            server.deliverFile(kCorpus / f);
        r = readOne(ws, id, good);
        ASSERT_TRUE(r.error.empty()) << r.error;
        EXPECT_NE(r.note.find("UIDVALIDITY"), std::string::npos) << r.note;
        EXPECT_EQ(r.items, 3);
        EXPECT_EQ(r.counts.imported, 0);
        EXPECT_EQ(r.counts.duplicate, expected);
        EXPECT_EQ(events(ws), expected);
    }
}

TEST(WatchImap, BadCredentialsAndADroppedConnectionAreAStatusAndARetry)
{
    if (!testimap::dovecotInstalled())
        GTEST_SKIP() << testimap::kDovecot << " is missing: install dovecot-imapd (packaging/setup.sh does)";
    testimap::ImapServer server;
    server.start();
    ASSERT_TRUE(server.error.empty()) << server.error;
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto id = addImapSource(ws, server);
    server.deliverFile(kCorpus / "lhost-postfix-01.eml");

    auto r = readOne(ws, id, withPassword("not-the-password"));
    EXPECT_NE(r.error.find("login refused"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("not-the-password"), std::string::npos) << "the password is never shown";
    EXPECT_EQ(bt::findSource(ws, std::to_string(id))->failures, 1);
    r = readOne(ws, id, bt::WatchOptions {});
    EXPECT_NE(r.error.find("no password"), std::string::npos) << r.error;
    EXPECT_EQ(bt::findSource(ws, std::to_string(id))->failures, 2);

    server.stop();
    r = readOne(ws, id, withPassword(testimap::ImapServer::kPassword));
    EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
    EXPECT_EQ(bt::findSource(ws, std::to_string(id))->failures, 3);
    EXPECT_EQ(events(ws), 0);

    // The retry, once the server is back: read as if nothing happened.
    server.restart();
    r = readOne(ws, id, withPassword(testimap::ImapServer::kPassword));
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.items, 1);
    const auto s = bt::findSource(ws, std::to_string(id));
    EXPECT_EQ(s->failures, 0);
    EXPECT_TRUE(s->lastError.empty());
    EXPECT_GT(events(ws), 0);
}

TEST(WatchImap, ProcessedMessagesAreMovedWhenAsked)
{
    if (!testimap::dovecotInstalled())
        GTEST_SKIP() << testimap::kDovecot << " is missing: install dovecot-imapd (packaging/setup.sh does)";
    testimap::ImapServer server;
    server.start();
    ASSERT_TRUE(server.error.empty()) << server.error;
    server.createFolder("Processed");
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    const auto id = addImapSource(ws, server, R"({"move_to": "Processed"})");
    server.deliverFile(kCorpus / "lhost-postfix-01.eml");
    server.deliverFile(kCorpus / "lhost-exim-01.eml");
    const auto r = readOne(ws, id, withPassword(testimap::ImapServer::kPassword));
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.note.empty()) << r.note;
    EXPECT_EQ(r.items, 2);
    EXPECT_TRUE(server.files("INBOX").empty());
    EXPECT_EQ(server.files("Processed").size(), 2u);
    EXPECT_EQ(readOne(ws, id, withPassword(testimap::ImapServer::kPassword)).items, 0);
}

TEST(WatchChanges, ADeliveryWakesTheWaiterAndQuietTimesOut)
{
    TempWorkspace t;
    TempDir d("changes");
    const fs::path md = d.path / "md";
    planted::makeMaildir(md);
    const fs::path log = d.path / "mail.log";
    PostfixWriter writer(log);
    writer.append(1);
    bt::Workspace ws(t.path.string());
    bt::addSource(ws, "maildir:" + md.string());
    bt::addSource(ws, "log:" + log.string());
    const auto paths = bt::changePaths(bt::watchSources(ws));
    EXPECT_EQ(paths.size(), 4u) << "new/ and cur/, the log and its folder";
    {
        bt::ChangeWaiter waiter(paths);
        EXPECT_EQ(waiter.watched(), 4);
        EXPECT_FALSE(waiter.wait(200)) << "nothing happened";
        std::thread later([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            planted::deliverDsn(md, 1, "a@gmail.com", "Tue, 3 Mar 2026 10:00:00 +0000", "5.1.1",
                                "550 5.1.1 no such user");
        });
        const auto start = std::chrono::steady_clock::now();
        EXPECT_TRUE(waiter.wait(10000, 50));
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << "woken, not timed out";
        later.join();
    }
    {
        // A line appended to the log wakes it too.
        bt::ChangeWaiter waiter(paths);
        EXPECT_FALSE(waiter.wait(100, 10));
        writer.append(1);
        EXPECT_TRUE(waiter.wait(5000, 50));
    }
}
