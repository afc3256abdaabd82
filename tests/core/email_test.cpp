// SPDX-License-Identifier: MIT
// The MIME layer and the mail sources: charsets, encoded words, line endings, mbox splitting.
#include "bounce.h"
#include "email.h"
#include "mailsource.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace
{

const std::string kJapanese = "\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93"
                              "\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f"; // 配信できませんでした in UTF-8

std::string message(const std::string& contentType, const std::string& body)
{
    return "From: MAILER-DAEMON@example.jp\nTo: a@example.org\nSubject: test\nMIME-Version: 1.0\n"
           "Content-Type: "
        + contentType + "\n\n" + body + "\n";
}

std::filesystem::path tempFile(const std::string& name, const std::string& content)
{
    const auto p = std::filesystem::temp_directory_path() / ("bt-email-test-" + name);
    std::ofstream(p, std::ios::binary) << content;
    return p;
}

} // namespace

TEST(Email, DecodesDeclaredCharsets)
{
    const struct {
        const char* charset;
        std::string bytes;
        std::string utf8;
    } cases[] = {
        {"ISO-2022-JP", "\x1b$BG[?.$G$-$^$;$s$G$7$?\x1b(B", kJapanese},
        {"Shift_JIS", "\x94z\x90M\x82\xc5\x82\xab\x82\xdc\x82\xb9\x82\xf1\x82\xc5\x82\xb5\x82\xbd", kJapanese},
        {"UTF-7", "+kU1P4TBnME0wfjBbMJMwZzBXMF8-", kJapanese},
        {"KOI8-R", "\xf0\xd2\xc9\xd7\xc5\xd4", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
        {"windows-1252",
         "Gr\xfc\xdf"
         "e",
         "Gr\xc3\xbc\xc3\x9f"
         "e"},
    };
    for (const auto& c : cases) {
        const auto e = bt::parseEmail(message(std::string("text/plain; charset=") + c.charset, c.bytes));
        ASSERT_TRUE(e) << c.charset;
        EXPECT_NE(e->body.find(c.utf8), std::string::npos) << c.charset << " gave: " << e->body;
    }
}

TEST(Email, UndeclaredEightBitBecomesValidUtf8)
{
    const auto e = bt::parseEmail("From: x@example.jp\nSubject: t\n\nUser unknown: Gr\xfc\xdf"
                                  "e\n");
    ASSERT_TRUE(e);
    EXPECT_NE(e->body.find("User unknown"), std::string::npos);
    EXPECT_NE(e->body.find("Gr\xc3\xbc\xc3\x9f"
                           "e"),
              std::string::npos)
        << e->body;
}

TEST(Email, EncodedWordsInHeaders)
{
    const auto e
        = bt::parseEmail("From: x@example.jp\nSubject: =?ISO-2022-JP?B?GyRCR1s/LiRHJC0kXiQ7JHMkRyQ3JD8bKEI=?=\n\nx\n");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->headers.get("subject"), kJapanese);
}

TEST(Email, AllLineEndingsGiveTheSameResult)
{
    const std::string lf = "From: MAILER-DAEMON@example.jp\nSubject: Undelivered Mail Returned to Sender\n\n"
                           "<kijitora@example.jp>: host mx.example.jp[192.0.2.1] said: 550 5.1.1\n"
                           "    <kijitora@example.jp>... User Unknown (in reply to RCPT TO command)\n";
    std::string crlf, cr;
    for (char c : lf) {
        crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
        cr += c == '\n' ? '\r' : c;
    }
    const bt::BounceReader reader(std::make_shared<bt::Classifier>(bt::KnowledgeBase::loadDefault()));
    for (const std::string* text :
         {&lf, static_cast<const std::string*>(&crlf), static_cast<const std::string*>(&cr)}) {
        const auto out = reader.read(*text);
        ASSERT_EQ(out.records.size(), 1u) << out.error;
        EXPECT_EQ(out.records[0].recipient, "kijitora@example.jp");
        EXPECT_EQ(out.records[0].enhancedCode, "5.1.1");
        EXPECT_EQ(out.records[0].diagnosis.reason, "userunknown");
    }
}

TEST(Email, MboxEnvelopeLineAtTheTopIsNotAHeader)
{
    const auto e = bt::parseEmail("From MAILER-DAEMON Thu Apr 24 00:00:00 2013\nFrom: x@example.jp\nSubject: s\n\nb\n");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->headers.get("Subject"), "s");
}

TEST(Email, EmptyAndTinyInputsAreNotMessages)
{
    for (const char* s : {"", "\n", "ab", "\r\n\r\n"})
        EXPECT_FALSE(bt::parseEmail(s)) << "'" << s << "'";
}

TEST(Email, DeliveryStatusAndReturnedHeaders)
{
    const std::string dsn = "From: MAILER-DAEMON@example.jp\nSubject: failure\nMIME-Version: 1.0\n"
                            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
                            "--B\nContent-Type: text/plain\n\nThe mail system\n\n"
                            "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n"
                            "X-Postfix-Sender: rfc822; sender@example.org\n\n"
                            "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.2.2\n"
                            "Diagnostic-Code: smtp; 552 5.2.2 <a@example.net>: Mailbox full\n\n"
                            "Final-Recipient: rfc822; b@example.net\nAction: failed\nStatus: 5.1.1\n"
                            "Diagnostic-Code: smtp; 550 5.1.1 <b@example.net>: User unknown\n\n"
                            "--B\nContent-Type: text/rfc822-headers\n\nFrom: Shop <news@shop.example.org>\n"
                            "Message-ID: <m1@shop.example.org>\nDKIM-Signature: v=1; a=rsa-sha256; d=shop.example.org; "
                            "s=sel1; b=abc\nX-Campaign-ID: spring-sale\n\n--B--\n";
    const bt::BounceReader reader(std::make_shared<bt::Classifier>(bt::KnowledgeBase::loadDefault()));
    const auto out = reader.read(dsn);
    ASSERT_EQ(out.records.size(), 2u) << out.error;
    EXPECT_EQ(out.records[0].recipient, "a@example.net");
    EXPECT_EQ(out.records[0].diagnosis.reason, "mailboxfull");
    EXPECT_EQ(out.records[1].recipient, "b@example.net");
    EXPECT_EQ(out.records[1].diagnosis.reason, "userunknown");
    EXPECT_EQ(out.records[1].reportingMta, "mx.example.jp");
    EXPECT_EQ(out.records[1].envelopeSender, "sender@example.org");
    EXPECT_EQ(out.records[1].original.fromDomain, "shop.example.org");
    EXPECT_EQ(out.records[1].original.dkimDomain, "shop.example.org");
    EXPECT_EQ(out.records[1].original.dkimSelector, "sel1");
    EXPECT_EQ(out.records[1].original.campaign, "spring-sale");
    EXPECT_EQ(out.records[1].original.messageId, "<m1@shop.example.org>");
}

TEST(Email, TimestampsAreUtc)
{
    EXPECT_EQ(bt::isoTimestamp("Thu, 24 Apr 2013 00:00:00 +0900"), "2013-04-23T15:00:00Z");
    EXPECT_EQ(bt::isoTimestamp("not a date"), "");
}

TEST(MailSource, MboxIsSplitAndFromQuotingUndone)
{
    const std::string mbox = "From a@example.jp Thu Apr 24 00:00:00 2013\nFrom: a@example.jp\nSubject: one\n\n"
                             ">From the start\nbody\n\n"
                             "From b@example.jp Thu Apr 24 00:00:01 2013\nFrom: b@example.jp\nSubject: two\n\nx\n";
    const auto path = tempFile("mbox", mbox);
    std::vector<bt::SourceMessage> seen;
    bt::forEachMessage(
        path,
        [&](bt::SourceMessage&& m) {
            seen.push_back(std::move(m));
            return true;
        },
        [](const std::string&, const std::string& e) { FAIL() << e; });
    std::filesystem::remove(path);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].index, 0u);
    EXPECT_EQ(seen[1].index, 1u);
    EXPECT_EQ(seen[0].offset, 0u);
    EXPECT_EQ(seen[1].offset, mbox.find("From b@"));
    EXPECT_NE(seen[0].bytes.find("\nFrom the start\n"), std::string::npos) << seen[0].bytes;
    EXPECT_EQ(bt::parseEmail(seen[1].bytes)->headers.get("Subject"), "two");
}

TEST(MailSource, CorpusMboxAndMaildirFolders)
{
    const auto corpus = std::filesystem::path(BT_SHARED_DIR) / "corpus/sisimai";
    std::size_t mbox0 = 0;
    bt::forEachMessage(
        corpus / "mailbox/mbox-0",
        [&](bt::SourceMessage&&) {
            ++mbox0;
            return true;
        },
        [](const std::string&, const std::string& e) { FAIL() << e; });
    EXPECT_GT(mbox0, 10u) << "mbox-0 holds many messages";

    std::size_t dos = 0, stopped = 0;
    bt::forEachMessage(
        corpus / "maildir/dos",
        [&](bt::SourceMessage&&) {
            ++dos;
            return true;
        },
        [](const std::string&, const std::string& e) { FAIL() << e; });
    EXPECT_GT(dos, 10u);
    bt::forEachMessage(
        corpus / "maildir/dos", [&](bt::SourceMessage&&) { return ++stopped < 3; },
        [](const std::string&, const std::string&) {});
    EXPECT_EQ(stopped, 3u) << "the visitor stops the walk";

    std::vector<std::string> errors;
    bt::forEachMessage(
        corpus / "no-such-folder", [](bt::SourceMessage&&) { return true; },
        [&](const std::string& p, const std::string& e) { errors.push_back(p + ": " + e); });
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("no-such-folder"), std::string::npos);
}
