// SPDX-License-Identifier: MIT
// The MIME layer and the mail sources: charsets, encoded words, line endings, mbox splitting.
#include "bounce.h"
#include "email.h"
#include "mailsource.h"
#include "private/mimescan.h"

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

namespace
{

bool sameHeaders(const bt::Headers& a, const bt::Headers& b, std::string& why)
{
    if (a.fields.size() != b.fields.size()) {
        why = "field count " + std::to_string(a.fields.size()) + " vs " + std::to_string(b.fields.size());
        return false;
    }
    for (std::size_t i = 0; i < a.fields.size(); ++i)
        if (a.fields[i].name != b.fields[i].name || a.fields[i].value != b.fields[i].value) {
            why = "field " + a.fields[i].name + ": [" + a.fields[i].value + "] vs " + b.fields[i].name + ": ["
                + b.fields[i].value + "]";
            return false;
        }
    return true;
}

/// Empty when the two readings agree, else what differs first.
std::string difference(const bt::Email& scan, const bt::Email& gmime)
{
    std::string why;
    if (!sameHeaders(scan.headers, gmime.headers, why))
        return "headers: " + why;
    if (scan.original.has_value() != gmime.original.has_value())
        return "original present in one only";
    if (scan.original && !sameHeaders(*scan.original, *gmime.original, why))
        return "original headers: " + why;
    const std::pair<const char*, std::pair<const std::string*, const std::string*>> texts[] = {
        {"body", {&scan.body, &gmime.body}},
        {"deliveryStatus", {&scan.deliveryStatus, &gmime.deliveryStatus}},
        {"feedbackReport", {&scan.feedbackReport, &gmime.feedbackReport}},
        {"originalBody", {&scan.originalBody, &gmime.originalBody}},
        {"reportType", {&scan.reportType, &gmime.reportType}},
        {"forwardedBounce", {&scan.forwardedBounce, &gmime.forwardedBounce}},
    };
    for (const auto& [name, pair] : texts)
        if (*pair.first != *pair.second)
            return std::string(name) + " differs: [" + pair.first->substr(0, 300) + "] vs ["
                + pair.second->substr(0, 300) + "]";
    return {};
}

} // namespace

// parseEmail reads most messages with a byte scan and leaves the shapes it does not read exactly
// to GMime. Wherever the scan answers, its Email must be GMime's to the byte: every message of
// the corpus (files and mboxes) and of the fuzz seeds is read both ways and compared, and so is
// every header block the format modules would hand to parseHeaderBlock.
TEST(Email, TheByteScanReadsEveryCorpusMessageAsGMimeDoes)
{
    const auto shared = std::filesystem::path(BT_SHARED_DIR) / "corpus/sisimai";
    const auto fuzz = std::filesystem::path(BT_TEST_DATA) / "fuzz";
    std::size_t messages = 0, scanned = 0, blocks = 0, blocksScanned = 0;
    for (const auto& root : {shared / "maildir", shared / "mailbox", fuzz / "email", fuzz / "mbox"})
        bt::forEachMessage(
            root,
            [&](bt::SourceMessage&& m) {
                ++messages;
                const auto gmime = bt::mimescan::parseEmailWith(m.bytes, bt::mimescan::Reader::GMimeOnly);
                const auto scan = bt::mimescan::parseEmailWith(m.bytes, bt::mimescan::Reader::ScanOnly);
                const auto either = bt::parseEmail(m.bytes);
                EXPECT_EQ(either.has_value(), gmime.has_value()) << m.path;
                if (scan) {
                    ++scanned;
                    EXPECT_TRUE(gmime.has_value()) << m.path;
                    if (gmime) {
                        EXPECT_EQ(difference(*scan, *gmime), "") << m.path << " #" << m.index;
                    }
                }
                // Header blocks as the modules meet them: the message's own, and its body read as one.
                const auto end = m.bytes.find("\n\n");
                for (const std::string_view block :
                     {std::string_view(m.bytes).substr(0, end),
                      std::string_view(m.bytes).substr(end == std::string::npos ? 0 : end + 2)}) {
                    ++blocks;
                    const auto h1 = bt::mimescan::parseHeaderBlockWith(block, bt::mimescan::Reader::ScanOnly);
                    if (!h1)
                        continue;
                    ++blocksScanned;
                    const auto h2 = bt::mimescan::parseHeaderBlockWith(block, bt::mimescan::Reader::GMimeOnly);
                    std::string why;
                    EXPECT_TRUE(sameHeaders(*h1, *h2, why)) << m.path << ": " << why;
                }
                return true;
            },
            [](const std::string&, const std::string&) {});
    std::printf("%zu messages, %zu read by the scan; %zu header blocks, %zu by the scan\n", messages, scanned, blocks,
                blocksScanned);
    EXPECT_GT(messages, 600u);
    // The scan must be the common path, or it saves nothing.
    EXPECT_GT(scanned * 10, messages * 8);
}

// A message saved with its own mbox envelope line ("From MAILER-DAEMON …", as the corpus files
// are) and then put in an mbox, as vs_sisimai.sh builds its input, starts with one envelope line
// more than the mbox reader takes off. GMime skips such lines ("From …" or ">From …") before the
// first field; the scan does too, and must read the rest exactly as GMime does, and must leave a
// "From : x" field and an envelope line without its line end to it.
TEST(Email, TheByteScanSkipsSecondEnvelopeLinesAsGMimeDoes)
{
    const auto shared = std::filesystem::path(BT_SHARED_DIR) / "corpus/sisimai";
    std::size_t variants = 0, scanned = 0;
    bt::forEachMessage(
        shared / "maildir",
        [&](bt::SourceMessage&& m) {
            for (const std::string_view prefix :
                 {"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n", "From a@example.org Thu\n>From b@example.org x\n",
                  "From a@example.org Thu\nFrom  : Someone <s@example.org>\n", "From a@example.org Thu\nFrom x"}) {
                const std::string v = std::string(prefix) + m.bytes;
                ++variants;
                const auto scan = bt::mimescan::parseEmailWith(v, bt::mimescan::Reader::ScanOnly);
                const auto gmime = bt::mimescan::parseEmailWith(v, bt::mimescan::Reader::GMimeOnly);
                if (!scan)
                    continue;
                ++scanned;
                EXPECT_TRUE(gmime.has_value()) << m.path << " after " << prefix;
                if (gmime) {
                    EXPECT_EQ(difference(*scan, *gmime), "") << m.path << " after " << prefix;
                }
            }
            return true;
        },
        [](const std::string&, const std::string&) {});
    std::printf("%zu variants, %zu read by the scan\n", variants, scanned);
    // The first two prefixes leave the corpus as readable as without them.
    EXPECT_GT(scanned * 10, variants * 4);
}

namespace
{

/// `text` with `what` put in at `at` (a copy: the corpus message stays as read).
std::string spliced(const std::string& text, std::size_t at, std::string_view what)
{
    std::string out;
    out.reserve(text.size() + what.size());
    out.append(text, 0, at);
    out.append(what);
    out.append(text, std::min(at, text.size()));
    return out;
}

} // namespace

// The same comparison on damaged copies of the corpus: cut short, a line dropped or doubled, a
// line folded, trailing blanks, a boundary line's dashes changed, a line that is no field put in. These are the shapes
// where a reader's guesses differ; the scan must decline them or read them as GMime does.
TEST(Email, TheByteScanReadsDamagedMessagesAsGMimeDoesOrLeavesThemToIt)
{
    const auto shared = std::filesystem::path(BT_SHARED_DIR) / "corpus/sisimai";
    std::uint64_t seed = 0x9e3779b97f4a7c15ull;
    auto next = [&seed](std::size_t n) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        return n ? static_cast<std::size_t>(seed % n) : 0;
    };
    std::size_t variants = 0, scanned = 0, failures = 0;
    bt::forEachMessage(
        shared / "maildir",
        [&](bt::SourceMessage&& m) {
            const std::string& b = m.bytes;
            std::vector<std::size_t> starts {0};
            for (std::size_t i = 0; i + 1 < b.size(); ++i)
                if (b[i] == '\n')
                    starts.push_back(i + 1);
            for (int k = 0; k < 9; ++k) {
                std::string v = b;
                const std::size_t line = starts[next(starts.size())];
                const std::size_t lineEnd = std::min(b.find('\n', line), b.size());
                switch (k) {
                case 0:
                    v = b.substr(0, next(b.size()));
                    break;
                case 1:
                    v.erase(line, lineEnd + 1 - line);
                    break;
                case 2:
                    v = b.substr(0, lineEnd + 1) + (lineEnd < b.size() ? b.substr(line) : std::string());
                    break;
                case 3:
                    v = spliced(b, line, " ");
                    break;
                case 4:
                    v = spliced(b, lineEnd, " \t");
                    break;
                case 5: {
                    const auto dash = b.find("\n--", next(b.size()));
                    if (dash == std::string::npos)
                        continue;
                    v = spliced(b, dash + 3, next(2) ? "-" : "x");
                    break;
                }
                case 6: {
                    const auto eq = b.find('=', next(b.size()));
                    if (eq == std::string::npos)
                        continue;
                    v[eq] = next(2) ? '\n' : 'Z';
                    break;
                }
                case 7:
                    v = spliced(b, line, "\n");
                    break;
                case 8: // a line that is no field, one with a blank in its name, one before its colon
                    v = spliced(b, line,
                                next(3) == 0  ? "garbage line\n"
                                    : next(2) ? "X Foo: bar\n"
                                              : "Subject : x\n\tmore\n");
                    break;
                }
                ++variants;
                const auto scan = bt::mimescan::parseEmailWith(v, bt::mimescan::Reader::ScanOnly);
                if (!scan)
                    continue;
                ++scanned;
                const auto gmime = bt::mimescan::parseEmailWith(v, bt::mimescan::Reader::GMimeOnly);
                if (!gmime) {
                    ADD_FAILURE() << m.path << " variant " << k << ": GMime reads no message";
                    ++failures;
                    continue;
                }
                const auto d = difference(*scan, *gmime);
                if (!d.empty() && ++failures <= 20)
                    ADD_FAILURE() << m.path << " variant " << k << " at line offset " << line << ": " << d;
            }
            return true;
        },
        [](const std::string&, const std::string&) {});
    std::printf("%zu damaged variants, %zu read by the scan, %zu differ\n", variants, scanned, failures);
    EXPECT_EQ(failures, 0u);
    EXPECT_GT(scanned * 2, variants) << "most damage leaves a shape the scan still reads";
}

// Some mailers put a Content-Type parameter on the next line without indenting it, which ends
// the header for a strict parser; the line is taken as the continuation it is, whatever the
// line ends.
TEST(Email, AParameterLineWithoutIndentationContinuesContentType)
{
    const std::string lf = "From: MAILER-DAEMON@example.jp\nTo: a@example.org\nSubject: Undelivered\n"
                           "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n"
                           "boundary=\"B1\"\n\n--B1\nContent-Type: text/plain\n\nThe mail could not be delivered.\n"
                           "--B1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\n"
                           "Final-Recipient: rfc822; bob@example.org\nAction: failed\nStatus: 5.1.1\n--B1--\n";
    for (const std::string_view eol : {"\n", "\r\n", "\r"}) {
        std::string bytes;
        for (char c : lf)
            bytes += c == '\n' ? std::string(eol) : std::string(1, c);
        const auto e = bt::parseEmail(bytes);
        ASSERT_TRUE(e.has_value());
        EXPECT_EQ(e->reportType, "delivery-status") << "line ends " << eol.size();
        EXPECT_NE(e->deliveryStatus.find("Status: 5.1.1"), std::string::npos) << "line ends " << eol.size();
        EXPECT_EQ(e->body.find("Final-Recipient"), std::string::npos);
    }
}

// Shapes the scan leaves to GMime rather than guess: each is still read, and as GMime reads it.
TEST(Email, ShapesTheScanDeclinesAreReadByGMime)
{
    const std::string head = "From: MAILER-DAEMON@example.jp\nTo: a@example.org\nSubject: Undelivered\n"
                             "MIME-Version: 1.0\n";
    const std::string cases[] = {
        // A quoted boundary with two blanks in a row (collapsing would change it).
        head
            + "Content-Type: multipart/mixed; boundary=\"a  b\"\n\n--a  b\nContent-Type: text/plain\n\nhello\n--a  "
              "b--\n",
        // An RFC 2231 parameter.
        head + "Content-Type: text/plain; charset*=utf-8''utf-8\n\nhello\n",
        // Base64 that goes on after its padding (GMime stops at the first "=").
        head + "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8=aGVsbG8=\n",
        // A part whose first line is no header field.
        head + "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nhello world\n--b--\n",
        // A digest, whose parts default to message/rfc822.
        head + "Content-Type: multipart/digest; boundary=\"b\"\n\n--b\n\nFrom: x@example.com\n\nhi\n--b--\n",
    };
    for (const auto& m : cases) {
        EXPECT_FALSE(bt::mimescan::parseEmailWith(m, bt::mimescan::Reader::ScanOnly).has_value()) << m;
        const auto either = bt::parseEmail(m);
        const auto gmime = bt::mimescan::parseEmailWith(m, bt::mimescan::Reader::GMimeOnly);
        ASSERT_EQ(either.has_value(), gmime.has_value()) << m;
        if (either) {
            EXPECT_EQ(difference(*either, *gmime), "") << m;
        }
    }
}
