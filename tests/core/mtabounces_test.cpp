// SPDX-License-Identifier: MIT
// Real notices made by Postfix, Exim, OpenSMTPD, Courier and dma from Debian 12
// (tests/data/mta-bounces): the
// MTAs relayed test messages to a scripted server that answered each recipient with a reply taken
// from the development replies, so what every notice should say is known (expected.tsv). The
// reader must report every failed recipient and no other address, the server's reply wherever
// the MTA wrote it into the notice, codes that agree with that reply, and the notice's kind.
#include "bounce.h"
#include "classifier.h"
#include "knowledge.h"
#include "replyparser.h"
#include "testsupport.h"
#include "text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace
{

const std::filesystem::path kDir = std::filesystem::path(BT_TEST_DATA) / "mta-bounces";

struct Row {
    std::string file, recipient, reply, stage;
    bool temporary = false;
    std::string notice; // failed or delayed
};

std::vector<Row> expected()
{
    EXPECT_TRUE(std::filesystem::exists(kDir / "expected.tsv")) << "missing " << kDir / "expected.tsv";
    std::vector<Row> rows;
    for (const auto& c : testsupport::tsvRows(kDir / "expected.tsv"))
        if (c.size() >= 6)
            rows.push_back({c[0], c[1], c[2], c[3], c[4] == "1", c[5]});
    return rows;
}

std::string readFile(const std::filesystem::path& p)
{
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct Read {
    std::string text; // the file, white space squeezed
    std::vector<bt::BounceRecord> records;
};

const std::map<std::string, Read>& readAll()
{
    static const auto all = [] {
        const bt::BounceReader reader(std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault()));
        std::map<std::string, Read> m;
        for (const auto& r : expected()) {
            if (m.count(r.file))
                continue;
            const auto bytes = readFile(kDir / r.file);
            m[r.file] = {bt::text::collapseSpace(bytes), reader.read(bytes).records};
        }
        return m;
    }();
    return all;
}

/// The reply as a session transcript writes it: Courier puts "<<< " in front of every line of a
/// multi-line reply ("<<< 550-5.1.1 A <<< 550 5.1.1 B" once white space is squeezed). A line
/// starts where the reply's code follows a line that ended with "NNN-".
std::string asTranscript(const std::string& reply)
{
    if (reply.size() < 4)
        return {};
    const auto code = reply.substr(0, 3);
    std::string out = "<<< ";
    std::size_t line = 0;
    for (std::size_t p = 0; p < reply.size(); ++p) {
        const bool next = p > 0 && reply[p - 1] == ' ' && reply.compare(p, 3, code) == 0 && p + 3 < reply.size()
            && (reply[p + 3] == '-' || reply[p + 3] == ' ') && reply[line + 3] == '-';
        if (next) {
            out += "<<< ";
            line = p;
        }
        out += reply[p];
    }
    return out;
}

/// The notice holds the reply as the server sent it: as one run of text, or as a transcript.
bool carries(const Read& read, const std::string& reply)
{
    const auto whole = bt::text::collapseSpace(reply);
    return read.text.find(whole) != std::string::npos || read.text.find(asTranscript(whole)) != std::string::npos;
}

const bt::BounceRecord* recordFor(const Read& read, const std::string& recipient)
{
    for (const auto& rec : read.records)
        if (bt::text::toLower(rec.recipient) == bt::text::toLower(recipient))
            return &rec;
    return nullptr;
}

} // namespace

TEST(MtaBounces, EveryFailedRecipientIsReportedAndNoOtherAddress)
{
    const auto rows = expected();
    ASSERT_GE(rows.size(), 240u);
    std::map<std::string, std::set<std::string>> want;
    for (const auto& r : rows)
        want[r.file].insert(bt::text::toLower(r.recipient));
    EXPECT_GE(want.size(), 210u);
    std::set<std::string> mtas;
    for (const auto& [file, recipients] : want) {
        mtas.insert(file.substr(0, file.find('/')));
        std::set<std::string> got;
        for (const auto& rec : readAll().at(file).records)
            got.insert(bt::text::toLower(rec.recipient));
        EXPECT_EQ(got, recipients) << file;
    }
    EXPECT_EQ(mtas, (std::set<std::string> {"courier", "dma", "exim", "opensmtpd", "postfix"}));
}

TEST(MtaBounces, TheReplyIsTheServersWhereTheNoticeCarriesIt)
{
    int carried = 0;
    for (const auto& r : expected()) {
        const auto& read = readAll().at(r.file);
        const auto* rec = recordFor(read, r.recipient);
        ASSERT_NE(rec, nullptr) << r.file << " " << r.recipient;
        // OpenSMTPD leaves the reply out of some notices, and writes multi-line replies without
        // their continuation codes; dma keeps no reply when it gives a message up after its queue
        // lifetime, nor the reply to HELO: only a reply the notice holds as sent can be asked for.
        // Courier's transcript holds it line by line behind "<<< ", which is as sent.
        if (!carries(read, r.reply))
            continue;
        ++carried;
        const auto got = bt::text::collapseSpace(rec->replyText);
        // Exim writes its verdict after a reply it gave up retrying, in its text and its
        // Diagnostic-Code alike; the reply stays whole before it.
        const bool exact = got == bt::text::collapseSpace(r.reply)
            || got == bt::text::collapseSpace(r.reply) + ": retry timeout exceeded";
        EXPECT_TRUE(exact) << r.file << " " << r.recipient << "\n  got:  " << got << "\n  want: " << r.reply;
        // Each recipient's own reply: in a list of "rcpt: reply" lines none takes another's.
        const auto reply = bt::parseReply(r.reply);
        if (reply.basicCode) {
            EXPECT_EQ(rec->basicCode, reply.basicCode) << r.file << " " << r.recipient;
        }
        if (!reply.enhancedCode.empty()) {
            EXPECT_EQ(rec->enhancedCode, reply.enhancedCode) << r.file << " " << r.recipient;
        }
    }
    EXPECT_GE(carried, 205) << "the notices that hold the reply as sent";
}

TEST(MtaBounces, ANoticeIsADelayOrAFailureAsItsMtaMeantIt)
{
    for (const auto& r : expected()) {
        const auto* rec = recordFor(readAll().at(r.file), r.recipient);
        ASSERT_NE(rec, nullptr) << r.file << " " << r.recipient;
        // OpenSMTPD's notice that it gave a message up ("Envelope expired") says "Action: delayed".
        EXPECT_EQ(rec->dsnAction, r.notice) << r.file << " " << r.recipient;
        if (r.temporary || r.notice == "delayed") {
            EXPECT_FALSE(rec->diagnosis.hardBounce) << r.file << " " << r.recipient << ": a 4xx reply or a delay";
        }
    }
}

TEST(MtaBounces, ARefusalAtRcptReadsAsTheReplyAlone)
{
    // Where the notice carries a permanent RCPT TO refusal whole, the record's family is what
    // the reply alone says: the notice's wording adds nothing that changes the verdict.
    const auto classifier = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    int compared = 0;
    for (const auto& r : expected()) {
        if (r.stage != "rcpt" || r.temporary || r.notice != "failed")
            continue;
        const auto& read = readAll().at(r.file);
        if (!carries(read, r.reply))
            continue;
        const auto* rec = recordFor(read, r.recipient);
        ASSERT_NE(rec, nullptr);
        // Sisimai's convention, which the reader follows for bounces: "user unknown" words with no
        // stage named and no X.1.1 status read as a filter's refusal (OpenSMTPD names no stage).
        const auto alone = classifier->diagnoseText(r.reply);
        if (rec->diagnosis.reason == "filtered" && alone.reason == "userunknown" && rec->format != "postfix"
            && rec->format != "exim")
            continue;
        ++compared;
        EXPECT_EQ(rec->diagnosis.family, alone.family) << r.file << " " << r.recipient << ": " << r.reply;
    }
    EXPECT_GE(compared, 75);
}
