// SPDX-License-Identifier: MIT
// The collected labelled replies (tests/data/replies, split by source): the development part we
// tune on and the sealed part we only measure. The floors are guards against regressions at
// the level measured when they were written, not targets: see tests/data/replies/README.md.
#include "classifier.h"
#include "knowledge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>
#include <vector>

namespace
{

struct Score {
    int rows = 0, family = 0, reason = 0, spam = 0, unknown = 0, answered = 0, answeredRight = 0;
    bool hasSpam = false; // the written probes carry no spam_related column
    std::map<std::string, int> byConfidence;
};

/// A labelled TSV: its header's column names and its rows' cells.
struct Tsv {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    /// The index of a column (header.size() when there is none).
    std::size_t col(const char* name) const
    {
        return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    }
};

Tsv readTsv(const std::filesystem::path& path)
{
    std::ifstream in(path);
    EXPECT_TRUE(in) << path;
    auto cells = [](const std::string& line) {
        std::vector<std::string> v;
        std::istringstream ss(line);
        for (std::string cell; std::getline(ss, cell, '\t');)
            v.push_back(cell);
        return v;
    };
    Tsv t;
    std::string line;
    if (std::getline(in, line))
        t.header = cells(line);
    while (std::getline(in, line))
        t.rows.push_back(cells(line));
    return t;
}

Score score(const std::filesystem::path& path)
{
    const Tsv tsv = readTsv(path);
    const auto text = tsv.col("reply_text"), family = tsv.col("family"), reason = tsv.col("reason"),
               spam = tsv.col("spam_related");
    EXPECT_LT(family, tsv.header.size()) << path << " has no family column";
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    Score s;
    s.hasSpam = spam < tsv.header.size();
    for (const auto& v : tsv.rows) {
        // (The written probes have no spam_related column.)
        if (v.size() <= std::max({text, family, reason}))
            continue;
        const auto d = c.diagnoseText(v[text]);
        ++s.rows;
        s.family += d.family == v[family];
        s.reason += d.reason == v[reason];
        s.spam += spam < v.size() && d.spamRelated == v[spam];
        s.unknown += d.family == "unknown" && v[family] != "unknown";
        if (d.family != "unknown") {
            ++s.answered;
            s.answeredRight += d.family == v[family];
        }
        ++s.byConfidence[d.confidence];
    }
    return s;
}

double pct(int n, int of)
{
    return of ? 100.0 * n / of : 0.0;
}

void print(const char* name, const Score& s)
{
    std::cout << std::fixed << std::setprecision(1) << name << ": " << s.rows << " replies; family "
              << pct(s.family, s.rows) << "%, reason " << pct(s.reason, s.rows) << "%, spam_related "
              << (s.hasSpam ? [&] {
                     std::ostringstream o;
                     o << std::fixed << std::setprecision(1) << pct(s.spam, s.rows) << "%";
                     return o.str();
                 }()
                            : std::string("n/a"))
              << ", unknown " << pct(s.unknown, s.rows) << "%, right among answers "
              << pct(s.answeredRight, s.answered) << "%; decided by";
    for (const auto& [k, n] : s.byConfidence)
        std::cout << " " << k << " " << n;
    std::cout << "\n";
}

const std::filesystem::path kDir = std::filesystem::path(BT_TEST_DATA) / "replies";

/// A change to a reply that says nothing about why it was refused: its name and what it does.
struct Variant {
    const char* name;
    std::function<std::string(const std::string&)> change;
};

/// Applies each variant to every development reply and expects the family to stay for all but
/// 0.3 % of them; prints how many changed.
void expectFamilyKept(const std::vector<Variant>& variants)
{
    const Tsv tsv = readTsv(kDir / "dev.tsv");
    const auto text = tsv.col("reply_text");
    ASSERT_LT(text, tsv.header.size());
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    std::vector<int> changed(variants.size());
    int rows = 0;
    for (const auto& v : tsv.rows) {
        if (v.size() <= text || v[text].empty())
            continue;
        ++rows;
        const auto family = c.diagnoseText(v[text], bt::Classifier::Texts::Omit).family;
        for (std::size_t i = 0; i < variants.size(); ++i)
            changed[i] += c.diagnoseText(variants[i].change(v[text]), bt::Classifier::Texts::Omit).family != family;
    }
    ASSERT_GT(rows, 900);
    for (std::size_t i = 0; i < variants.size(); ++i) {
        std::cout << variants[i].name << ": " << changed[i] << " of " << rows << " replies changed family\n";
        EXPECT_LE(changed[i] * 1000, rows * 3) << variants[i].name; // at most 0.3 %
    }
}

/// Rewrites every development reply `rewrite` has a rewriting for (nullopt: none) and counts those
/// whose family changed: {replies rewritten, changed}.
std::pair<int, int>
familyChangesWhenRewritten(const std::function<std::optional<std::string>(const std::string&)>& rewrite)
{
    const Tsv tsv = readTsv(kDir / "dev.tsv");
    const auto text = tsv.col("reply_text");
    EXPECT_LT(text, tsv.header.size());
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    int rewritten = 0, changed = 0;
    for (const auto& v : tsv.rows) {
        if (v.size() <= text)
            continue;
        const auto written = rewrite(v[text]);
        if (!written)
            continue;
        ++rewritten;
        changed += c.diagnoseText(v[text], bt::Classifier::Texts::Omit).family
            != c.diagnoseText(*written, bt::Classifier::Texts::Omit).family;
    }
    return {rewritten, changed};
}

/// `t` with each pair's first words replaced by its second, or nullopt when it holds none of them.
std::optional<std::string> replaced(std::string t, const std::vector<std::pair<std::string, std::string>>& pairs)
{
    bool any = false;
    for (const auto& [from, to] : pairs)
        for (auto at = t.find(from); at != std::string::npos; at = t.find(from, at + to.size())) {
            t.replace(at, from.size(), to);
            any = true;
        }
    return any ? std::optional<std::string>(t) : std::nullopt;
}

/// Breaks every development reply with a code and six words or more into three lines of a
/// multi-line reply ("550-5.1.1 …", "550-5.1.1 …", "550 5.1.1 …"), the lines joined by `lineBreak`,
/// and counts those whose family changed: {replies broken, changed}.
std::pair<int, int> familyChangesWhenBrokenIntoLines(const std::string& lineBreak)
{
    return familyChangesWhenRewritten([&](const std::string& t) -> std::optional<std::string> {
        // "NNN " or "NNN-", an enhanced code perhaps, then at least six words.
        if (t.size() < 4 || !std::isdigit(static_cast<unsigned char>(t[0])) || (t[3] != ' ' && t[3] != '-'))
            return std::nullopt;
        const std::string code = t.substr(0, 3);
        std::string enhanced;
        std::istringstream ss(t.substr(4));
        std::vector<std::string> words;
        for (std::string w; ss >> w;)
            words.push_back(w);
        if (!words.empty() && words.front().size() >= 5 && words.front()[1] == '.'
            && std::isdigit(static_cast<unsigned char>(words.front()[0]))) {
            enhanced = words.front() + " ";
            words.erase(words.begin());
        }
        if (words.size() < 6)
            return std::nullopt;
        const auto part = words.size() / 3;
        auto join = [&](std::size_t from, std::size_t to) {
            std::string out;
            for (auto i = from; i < to; ++i)
                out += (out.empty() ? "" : " ") + words[i];
            return out;
        };
        return code + "-" + enhanced + join(0, part) + lineBreak + code + "-" + enhanced + join(part, 2 * part)
            + lineBreak + code + " " + enhanced + join(2 * part, words.size());
    });
}

} // namespace

TEST(LabelledReplies, AReplyBrokenIntoLinesKeepsItsFamily)
{
    const auto [broken, changed] = familyChangesWhenBrokenIntoLines("\n");
    std::cout << broken << " replies broken into three lines, " << changed << " changed family\n";
    ASSERT_GT(broken, 1000);
    EXPECT_LE(changed * 1000, broken * 5); // at most 0.5 %
}

// A TSV cell, a log line or a CSV export holds a multi-line reply on one line with its breaks
// written as "\\n" (the contract owners' replies-ambiguous.tsv writes Gmail's 421-4.7.0 reply so).
// Read as it stood, "550-User\\n550 unknown." had a continuation code between the words of every
// phrase split over two lines: the development replies with a code and two words or more, each
// split at its middle word into two lines so, 174 of 2 584 changed family (150 of them away from
// their label) before the escapes were read as line breaks, 2 after (2026-12-08).
TEST(LabelledReplies, AReplyWithItsLineBreaksEscapedKeepsItsFamily)
{
    for (const std::string lineBreak : {"\\n", "\\r\\n"}) {
        const auto [broken, changed] = familyChangesWhenBrokenIntoLines(lineBreak);
        std::cout << broken << " replies broken into three lines by " << lineBreak << ", " << changed
                  << " changed family\n";
        ASSERT_GT(broken, 1000);
        EXPECT_LE(changed * 1000, broken * 5) << lineBreak; // at most 0.5 %
    }
}

// Help pages and documentation write the client's address masked ("554 [x.x.x.x] Access
// denied", "Message from (xxx.xxx.xxx.xxx) temporarily deferred"); the labelled replies were
// collected with documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) filled in.
// Of the 278 development replies naming one, 3 (x.x.x.x) and 10 (xxx.xxx.xxx.xxx) changed family
// when it was written masked (2026-12-08), before the patterns read a masked address as one.
TEST(LabelledReplies, AnAddressWrittenMaskedKeepsTheFamily)
{
    // Every documentation address in t written as `mask`; nullopt when t names none.
    auto masked = [](std::string t, const std::string& mask) {
        bool any = false;
        for (const std::string net : {"192.0.2.", "198.51.100.", "203.0.113."})
            for (auto at = t.find(net); at != std::string::npos; at = t.find(net, at + 1)) {
                auto end = at + net.size();
                while (end < t.size() && std::isdigit(static_cast<unsigned char>(t[end])))
                    ++end;
                const bool bounded = (at == 0 || !std::isalnum(static_cast<unsigned char>(t[at - 1])))
                    && end > at + net.size() && (end == t.size() || !std::isalnum(static_cast<unsigned char>(t[end])));
                if (!bounded)
                    continue;
                t.replace(at, end - at, mask);
                any = true;
            }
        return any ? std::optional<std::string>(t) : std::nullopt;
    };
    for (const std::string mask : {"x.x.x.x", "xxx.xxx.xxx.xxx", "X.X.X.X", "a.b.c.d", "192.0.2.x"}) {
        const auto [naming, changed]
            = familyChangesWhenRewritten([&](const std::string& t) { return masked(t, mask); });
        std::cout << mask << ": " << changed << " of " << naming << " replies changed family\n";
        ASSERT_GT(naming, 200);
        EXPECT_LE(changed * 1000, naming * 5) << mask; // at most 0.5 %
    }
}

// The refused party named with "refused" rather than Postfix's "rejected" ("Recipient address
// refused: Access denied", "Helo command refused: Host not found", as other servers word it): the
// same structure, the same cause. Of the 258 development replies that name a party so, 10 changed
// family before the patterns of that structure took both words, 3 after (2026-12-08: the model,
// which weighs the two words differently, decides those).
TEST(LabelledReplies, APartyRefusedRatherThanRejectedKeepsTheFamily)
{
    const auto [naming, changed] = familyChangesWhenRewritten([](const std::string& t) {
        return replaced(t,
                        {{"address rejected", "address refused"},
                         {"Address rejected", "Address refused"},
                         {"command rejected", "command refused"},
                         {"Command rejected", "Command refused"},
                         {"host rejected", "host refused"},
                         {"Host rejected", "Host refused"}});
    });
    std::cout << changed << " of " << naming << " replies changed family\n";
    ASSERT_GT(naming, 100);
    EXPECT_LE(changed * 1000, naming * 15); // at most 1.5 %
}

// "Temporary" where a native speaker writes "temporarily" ("Mailbox temporary unavailable",
// "Relaying temporary denied"), as servers configured by non-native speakers do: of the 54
// development replies with "temporarily", 5 changed family written so before the patterns took
// both forms, 1 after (2026-12-08).
TEST(LabelledReplies, TemporaryForTemporarilyKeepsTheFamily)
{
    const auto [naming, changed] = familyChangesWhenRewritten([](const std::string& t) {
        return replaced(t, {{"emporarily", "emporary"}, {"EMPORARILY", "EMPORARY"}});
    });
    std::cout << changed << " of " << naming << " replies changed family\n";
    ASSERT_GT(naming, 40);
    EXPECT_LE(changed * 100, naming * 3); // at most 3 %
}

TEST(LabelledReplies, SealedSplitHoldsItsLevel)
{
    const auto s = score(kDir / "sealed.tsv");
    print("sealed.tsv", s);
    ASSERT_GT(s.rows, 300) << "the sealed split looks truncated";
    EXPECT_GE(pct(s.family, s.rows), 70.0);
    EXPECT_LE(pct(s.unknown, s.rows), 8.0);
}

TEST(LabelledReplies, DevelopmentSplitHoldsItsLevel)
{
    const auto s = score(kDir / "dev.tsv");
    print("dev.tsv", s);
    ASSERT_GT(s.rows, 900);
    EXPECT_GE(pct(s.family, s.rows), 80.0);
    EXPECT_LE(pct(s.unknown, s.rows), 3.0);
}

// The 58 replies whose owners' readings were written into the knowledge (2026-12-06): a lexicon
// of another language once took three of Orange's and La Poste's throttles ("Service refusé,
// veuillez essayer plus tard") to blocked without any floor noticing. One La Poste throttle is
// second-guessed by the model today, so the floor leaves room for one more such call, not two.
TEST(LabelledReplies, AmbiguousFixturesKeepTheirOwnersReadings)
{
    const auto s = score(std::filesystem::path(BT_SHARED_DIR) / "fixtures" / "replies-ambiguous.tsv");
    print("replies-ambiguous.tsv", s);
    ASSERT_GE(s.rows, 50);
    EXPECT_GE(s.family + 2, s.rows);
    EXPECT_EQ(s.unknown, 0);
}

// Bounce texts written to probe the knowledge, not collected (tests/data/probes/README.md): the
// floors guard the level measured when they were added (2026-12-06; the held-out halves scored
// once, 86.0-93.8 %), with the helpers' own readings of a few calls left as they wrote them, so a
// correct classifier does not reach 100 %.
TEST(LabelledReplies, WrittenProbesHoldTheirLevel)
{
    const std::filesystem::path dir = std::filesystem::path(BT_TEST_DATA) / "probes";
    auto holds = [&](const char* file, double floor, double unknownCeiling, int minRows) {
        const auto s = score(dir / file);
        print(file, s);
        ASSERT_GT(s.rows, minRows) << file;
        EXPECT_GE(pct(s.family, s.rows), floor) << file;
        EXPECT_LE(pct(s.unknown, s.rows), unknownCeiling) << file;
    };
    for (const auto& [file, floor] : std::vector<std::pair<const char*, double>> {{"en1.tsv", 93.0},
                                                                                  {"intl1.tsv", 94.0},
                                                                                  {"en2-tune.tsv", 95.0},
                                                                                  {"intl2-tune.tsv", 97.0},
                                                                                  {"providers-tune.tsv", 94.0},
                                                                                  {"mta-tune.tsv", 90.0},
                                                                                  {"esp-tune.tsv", 95.0},
                                                                                  {"border-tune.tsv", 90.0},
                                                                                  {"en2-held.tsv", 89.0},
                                                                                  {"providers-held.tsv", 89.0},
                                                                                  {"mta-held.tsv", 86.0},
                                                                                  {"esp-held.tsv", 83.0},
                                                                                  {"border-held.tsv", 83.0},
                                                                                  {"intl2-held.tsv", 90.0},
                                                                                  {"posted-tune.tsv", 93.0},
                                                                                  {"longtail-tune.tsv", 85.0},
                                                                                  {"posted-held.tsv", 89.0},
                                                                                  {"longtail-held.tsv", 88.0},
                                                                                  {"paraphrase-tune.tsv", 84.0},
                                                                                  {"paraphrase-fixtures.tsv", 91.0},
                                                                                  {"paraphrase-fixtures2.tsv", 88.0},
                                                                                  {"paraphrase-ambiguous.tsv", 73.0},
                                                                                  {"paraphrase-ambiguous2.tsv", 70.0},
                                                                                  {"translated-fixtures.tsv", 94.0},
                                                                                  {"translated-check.tsv", 87.0},
                                                                                  {"paraphrase-check.tsv", 77.0},
                                                                                  {"paraphrase-held.tsv", 82.0}}) {
        holds(file, floor, 4.0, 90);
    }
    // Development replies reworded or translated by helpers given only the reply (2026-12-07,
    // session of 14:48), split by source; the rewordings of replies it had right or wrong alike,
    // so they sit near the sealed split's level: 77.0 / 81.5 % (read / held out), the
    // translations 74.2 / 74.5 % after the lexicons of ten languages were extended (66.1 / 70.2 %
    // before), with more replies left unknown than in English.
    for (const auto& [file, floor, unknownCeiling] :
         std::vector<std::tuple<const char*, double, double>> {{"paraphrase-dev-tune.tsv", 75.0, 2.0},
                                                               {"paraphrase-dev-held.tsv", 79.0, 3.0},
                                                               {"translated-dev-tune.tsv", 72.0, 5.0},
                                                               {"translated-dev-held.tsv", 71.0, 6.0}}) {
        holds(file, floor, unknownCeiling, 150);
    }
}

// Replies arrive quoted the way an MTA or a bounce wraps them: "host X said: … (in reply to RCPT
// TO command)" (Postfix), "Remote Server returned '…'" (Exchange), "Diagnostic-Code: smtp; …"
// (a DSN), "SMTP error from remote mail server after RCPT TO:<…>:" and an indented line (Exim),
// or shouted in capitals. The wrapper says how the reply came, not why: the family must not
// move with it. Measured on the development split (2026-12-06): of its 3 516 replies, the
// Postfix wrapper changed the family of 4, Exchange's 2, the DSN's 2, Exim's 4 and capitals 1,
// some for the better, some for the worse. Postfix's stage alone after the reply changed 35 while
// a plain reply kept it as words ("RCPT" made a sender's refusal read as a recipient's), 4 once
// it is read as the stage.
TEST(LabelledReplies, AQuotedOrShoutedReplyKeepsItsFamily)
{
    expectFamilyKept({
        {"postfix",
         [](const std::string& t) {
             return "host mx1.example.net[203.0.113.7] said: " + t + " (in reply to RCPT TO command)";
         }},
        // Alone, as a reply is pasted from a Postfix bounce. Postfix checks the sender at RCPT TO
        // by default (smtpd_delay_reject), so a sender's refusal names that stage too.
        {"postfix stage", [](const std::string& t) { return t + " (in reply to RCPT TO command)"; }},
        {"exchange", [](const std::string& t) { return "Remote Server returned '" + t + "'"; }},
        {"dsn", [](const std::string& t) { return "Diagnostic-Code: smtp; " + t; }},
        {"exim",
         [](const std::string& t) {
             return "SMTP error from remote mail server after RCPT TO:<bob@example.net>:\n    " + t;
         }},
        // What servers and logs put around a reply: Gmail's session tag after it, a log's time
        // before it. "invalid address" followed by any word read as a syntax error until the
        // syntax phrase required its noun ("invalid address syntax"): 5 of 3 516 changed.
        {"gmail tag", [](const std::string& t) { return t + " a1si123456qkb.12 - gsmtp"; }},
        {"log time", [](const std::string& t) { return "2024-03-01 10:22:33 " + t; }},
        {"capitals",
         [](const std::string& t) {
             std::string u = t;
             for (auto& ch : u)
                 ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
             return u;
         }},
    });
}

// A long reply as a server writes it: three lines, each starting with the reply's codes ("550-"
// on all but the last), broken between words wherever the line ends, often inside a phrase. Its
// family must be the one-line reply's. Measured on the development split (2026-12-06): of 1 390
// replies broken so, 253 changed family while the line codes were read as words, 4 after (three
// with codes the parser does not take for reply codes: 462, 475, 571).
// Replies copied out of web pages, HTML bounces and editors: no-break spaces (U+00A0) or doubled
// spaces or tabs between the words, typographic apostrophes ("doesn’t"). The words are the same,
// so is the family. Measured on the development split (2026-12-06), each applied to every reply:
// 701, 484, 485 and 3 replies of 3 516 changed family before the classifier read plain spacing
// (and the parser took a no-break space after a code for a space), 1, 1, 1 and 0 after.
TEST(LabelledReplies, SpacingAndQuotesDoNotChangeTheFamily)
{
    auto replacing = [](std::string from, std::string to) {
        return [from, to](const std::string& reply) {
            std::string t = reply;
            for (auto at = t.find(from); at != std::string::npos; at = t.find(from, at + to.size()))
                t.replace(at, from.size(), to);
            return t;
        };
    };
    expectFamilyKept({{"no-break spaces", replacing(" ", "\xC2\xA0")},
                      {"doubled spaces", replacing(" ", "  ")},
                      {"tabs", replacing(" ", "\t")},
                      {"typographic apostrophes", replacing("'", "\xE2\x80\x99")},
                      // Copied from a page's HTML source: 5 changed while the entities stayed, 0 now.
                      {"HTML entities", [](const std::string& reply) {
                           std::string t;
                           for (const char ch : reply)
                               t += ch == '&'   ? "&amp;"
                                   : ch == '<'  ? "&lt;"
                                   : ch == '>'  ? "&gt;"
                                   : ch == '"'  ? "&quot;"
                                   : ch == '\'' ? "&#x27;"
                                                : std::string(1, ch);
                           return t;
                       }}});
}

// A reply without a code pasted with the NDR around it: the software's own sentence before the
// server's words ("The reason for the problem:", Gmail's "The error that the other server
// returned was:") frames the reply, and its words ("problem", "rejected by the server for the
// recipient domain") are not the cause. Measured on the development split (2026-12-06): the
// "reason for the problem" frame changed the family of 108 of 3 516 replies and Gmail's of 22
// while the whole text was read; 0 and 0 once the words after the frame are the reply.
TEST(LabelledReplies, AnNdrSentenceAroundAReplyDoesNotChangeItsFamily)
{
    expectFamilyKept({
        {"reason for the problem",
         [](const std::string& t) {
             return "The following message to <bob@example.net> was undeliverable. The reason for the problem: " + t;
         }},
        {"gmail",
         [](const std::string& t) {
             return "Delivery to the following recipient failed permanently: bob@example.net Technical details of "
                    "permanent failure: Google tried to deliver your message, but it was rejected by the server for "
                    "the recipient domain example.net by mx.example.net. [192.0.2.1]. The error that the other "
                    "server returned was: "
                 + t;
         }},
    });
}

TEST(LabelledReplies, AGatewaysBannerOrFooterPastedWithAReplyDoesNotChangeItsFamily)
{
    // A reply copied from a bounce that passed a company's gateway brings its banner above and
    // its footer below (resources/notices.json). Measured 2026-12-06 on 300 development replies
    // before notices were left out: the footer changed the family of 25 ("viruses" read as a
    // virus refusal), the banner of none.
    static const std::string kBanner
        = "CAUTION: This email originated from outside of the organization. Do not click links or open\n"
          "attachments unless you recognize the sender and know the content is safe.\n\n";
    static const std::string kFooter
        = "\n\n--\nThis email has been scanned for viruses and malware by Example Gateway.\n";
    static const std::string kDisclaimer
        = "\n\nCONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and intended solely for "
          "the use of the addressee. If you are not the intended recipient, please delete it.\n";
    expectFamilyKept({
        {"banner", [](const std::string& t) { return kBanner + t; }},
        {"footer", [](const std::string& t) { return t + kFooter; }},
        {"disclaimer", [](const std::string& t) { return t + kDisclaimer; }},
    });
}

TEST(LabelledReplies, AForwardsHeadersPastedAboveAReplyDoNotChangeItsFamily)
{
    // A reply pasted with the header block of the forward it came in: "Subject" read as a header
    // refusal (contenterror) where the reply has no code. Measured 2026-12-06 on 200 development
    // replies before the block was left out: Gmail's forward 5 changed family, Outlook's 5.
    expectFamilyKept({
        {"gmail forward",
         [](const std::string& t) {
             return "---------- Forwarded message ---------\nFrom: Mail Delivery Subsystem "
                    "<mailer-daemon@googlemail.com>\nDate: Mon, 1 Jan 2024 at 10:00\nSubject: Delivery Status "
                    "Notification (Failure)\nTo: <alice@example.org>\n\n"
                 + t + "\n";
         }},
        {"outlook forward",
         [](const std::string& t) {
             return "-----Original Message-----\nFrom: Microsoft Outlook <postmaster@example.org>\nSent: Monday, "
                    "January 1, 2024 10:00 AM\nTo: Alice <alice@example.org>\nSubject: Undeliverable: Invoice "
                    "1234\n\n"
                 + t + "\n";
         }},
        {"german outlook forward",
         [](const std::string& t) {
             return "-----Urspr\xC3\xBCngliche Nachricht-----\nVon: Microsoft Outlook <postmaster@example.org>\n"
                    "Gesendet: Montag, 1. Januar 2024 10:00\nAn: Alice <alice@example.org>\nBetreff: "
                    "Unzustellbar: Rechnung 1234\n\n"
                 + t + "\n";
         }},
    });
}

// Every verdict other than unknown carries its evidence (vocabulary.md), including those the
// refused party decided ("501 <alice>: sender address must contain a domain" is the sender's
// refusal: the party's words and the cause) and those a reply code decided with its rule
// ("500 sequence error": the code). Measured before this check: 114 of the development and
// fixture replies had a verdict and no evidence.
TEST(LabelledReplies, EveryVerdictCarriesItsEvidence)
{
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    int rows = 0, bare = 0;
    for (const auto& file : {kDir / "dev.tsv", std::filesystem::path(BT_SHARED_DIR) / "fixtures" / "replies.tsv"}) {
        const Tsv tsv = readTsv(file);
        const auto text = tsv.col("reply_text");
        ASSERT_LT(text, tsv.header.size()) << file;
        for (const auto& v : tsv.rows) {
            if (v.size() <= text || v[text].empty())
                continue;
            ++rows;
            const auto d = c.diagnoseText(v[text], bt::Classifier::Texts::Omit);
            if (d.family == "unknown")
                continue;
            bare += d.evidence.empty();
            EXPECT_FALSE(d.evidence.empty()) << d.reason << " without evidence: " << v[text];
            for (const auto& e : d.evidence) {
                EXPECT_LT(e.start, e.end) << v[text];
                EXPECT_LE(e.end, d.replyText.size()) << v[text];
            }
        }
    }
    ASSERT_GT(rows, 1000);
    EXPECT_EQ(bare, 0);
}

// A long reply pasted from a mail client, a log viewer or a web page that wrapped it at 60
// columns, its lines plain or indented, with no code on the lines after the first. The words
// after the wrap are the reply's cause as often as not ("550 5.7.1 Client host rejected:\nToo much
// spam from your server"). Measured on the development split (2026-12-06): of its 918 replies
// longer than 70 characters wrapped so, 255 changed family while only the first line was read
// as the reply; of the 856 here (no line codes of their own), 7 (plain) and 0 (indented) now.
// Quoted with "> " as a reply of a colleague quotes them, 34 changed while the marks stayed.
TEST(LabelledReplies, AReplyWrappedAcrossLinesKeepsItsFamily)
{
    const Tsv tsv = readTsv(kDir / "dev.tsv");
    const auto text = tsv.col("reply_text");
    ASSERT_LT(text, tsv.header.size());
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    auto wrap = [](const std::string& t, const std::string& between) {
        std::istringstream ss(t);
        std::string out, line;
        for (std::string w; ss >> w;) {
            if (!line.empty() && line.size() + 1 + w.size() > 60) {
                out += (out.empty() ? "" : between) + line;
                line.clear();
            }
            line += (line.empty() ? "" : " ") + w;
        }
        return out + (out.empty() ? "" : between) + line;
    };
    // A code after the start ("… 550-5.7.1 more words"): a multi-line reply already joined,
    // whose re-wrapping would put line codes mid-line (AReplyBrokenIntoLinesKeepsItsFamily).
    auto hasLineCodes = [](const std::string& t) {
        for (std::size_t i = 1; i + 4 < t.size(); ++i)
            if (t[i - 1] == ' ' && t[i] >= '2' && t[i] <= '5' && std::isdigit(static_cast<unsigned char>(t[i + 1]))
                && std::isdigit(static_cast<unsigned char>(t[i + 2])) && (t[i + 3] == '-' || t[i + 3] == ' ')
                && (t[i + 3] == '-' || (t[i + 4] >= '2' && t[i + 4] <= '5')))
                return true;
        return false;
    };
    int wrapped = 0, plain = 0, indented = 0, quoted = 0;
    for (const auto& v : tsv.rows) {
        if (v.size() <= text || v[text].size() <= 70 || hasLineCodes(v[text])
            || v[text].find('\n') != std::string::npos)
            continue;
        ++wrapped;
        const auto family = c.diagnoseText(v[text], bt::Classifier::Texts::Omit).family;
        plain += c.diagnoseText(wrap(v[text], "\n"), bt::Classifier::Texts::Omit).family != family;
        indented += c.diagnoseText(wrap(v[text], "\n    "), bt::Classifier::Texts::Omit).family != family;
        quoted += c.diagnoseText("> " + wrap(v[text], "\n> "), bt::Classifier::Texts::Omit).family != family;
    }
    std::cout << wrapped << " replies wrapped at 60 columns: " << plain << " (plain), " << indented
              << " (indented) and " << quoted << " (quoted with \"> \") changed family\n";
    ASSERT_GT(wrapped, 600);
    EXPECT_LE(plain * 100, wrapped); // at most 1 %
    EXPECT_LE(indented * 100, wrapped);
    EXPECT_LE(quoted * 100, wrapped);
}
