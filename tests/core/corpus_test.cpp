// SPDX-License-Identifier: MIT
// Reads every bounce of ../shared/corpus/sisimai and compares with sisimai-expected.tsv,
// matching rows by file and recipient order. Prints the agreement per format family.
#include "bounce.h"
#include "classifier.h"
#include "knowledge.h"
#include "mailsource.h"
#include "testsupport.h"
#include "text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <sstream>

namespace
{

// Floors (percent): status 97.5, reply code 98, reason 95, a result for 99.5 % of the labelled
// rows (measured 98.3, 98.3, 95.9 and 99.8 on 2026-12-06, after rules learnt how bounce emails'
// conventions read some words: bounce_email_reason).
constexpr double kStatusFloor = 97.5;
constexpr double kReplyCodeFloor = 98.0;
constexpr double kReasonFloor = 95.0;
constexpr double kCoverageFloor = 99.5;

const std::filesystem::path kCorpus = std::filesystem::path(BT_SHARED_DIR) / "corpus";

struct Expected {
    std::string path;
    int index = 0;
    std::string status, replyCode, reason;
};

std::string familyOfFile(const std::string& path)
{
    // maildir/bsd/lhost-postfix-01.eml → lhost-postfix
    auto name = std::filesystem::path(path).stem().string();
    const auto dash = name.rfind('-');
    return dash == std::string::npos ? name : name.substr(0, dash);
}

std::shared_ptr<const bt::Classifier> classifier()
{
    static auto c = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    return c;
}

struct Tally {
    int rows = 0, found = 0, status = 0, code = 0, reason = 0;
};

double pct(int n, int d)
{
    return d ? 100.0 * n / d : 0.0;
}

/// What two readings of a bounce must agree on: each record's recipient, codes and reason.
std::vector<std::string> recordKeys(const std::vector<bt::BounceRecord>& rs)
{
    std::vector<std::string> out;
    for (const auto& r : rs)
        out.push_back(r.recipient + "|" + r.enhancedCode + "|"
                      + (r.basicCode ? std::to_string(*r.basicCode) : std::string()) + "|" + r.diagnosis.reason);
    return out;
}

/// Every bounce of maildir/bsd: its file name and its bytes with line ends as "\n".
std::vector<std::pair<std::string, std::string>> corpusBsd()
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : std::filesystem::directory_iterator(kCorpus / "sisimai" / "maildir" / "bsd")) {
        std::ifstream f(e.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::erase(bytes, '\r');
        out.emplace_back(e.path().filename().string(), std::move(bytes));
    }
    return out;
}

/// Reads every labelled corpus bounce with `reader`, prints the agreement per format family and
/// returns the totals.
Tally agreement(const bt::BounceReader& reader)
{
    EXPECT_TRUE(std::filesystem::exists(kCorpus / "sisimai-expected.tsv"))
        << "missing " << kCorpus / "sisimai-expected.tsv";
    std::vector<Expected> rows;
    for (const auto& c : testsupport::tsvRows(kCorpus / "sisimai-expected.tsv"))
        if (c.size() >= 5)
            rows.push_back({c[0], std::stoi(c[1]), c[2], c[3], c[4]});
    EXPECT_GT(rows.size(), 400u);
    std::map<std::string, std::vector<bt::BounceRecord>> results;
    std::map<std::string, Tally> families;
    Tally all;
    std::ostringstream misses;
    for (const auto& e : rows) {
        if (!results.count(e.path)) {
            std::ifstream f(kCorpus / "sisimai" / e.path, std::ios::binary);
            std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            results[e.path] = reader.read(bytes).records;
        }
        const auto& recs = results[e.path];
        auto& t = families[familyOfFile(e.path)];
        ++t.rows;
        ++all.rows;
        if (static_cast<std::size_t>(e.index) > recs.size()) {
            misses << "  " << e.path << " #" << e.index << ": no result (want " << e.status << " " << e.replyCode << " "
                   << e.reason << ")\n";
            continue;
        }
        const auto& r = recs[static_cast<std::size_t>(e.index - 1)];
        const std::string code = r.basicCode ? std::to_string(*r.basicCode) : std::string();
        const bool okStatus = r.enhancedCode == e.status;
        const bool okCode = code == e.replyCode;
        const bool okReason = r.diagnosis.reason == e.reason;
        ++t.found;
        ++all.found;
        t.status += okStatus;
        all.status += okStatus;
        t.code += okCode;
        all.code += okCode;
        t.reason += okReason;
        all.reason += okReason;
        if (!okStatus || !okCode || !okReason)
            misses << "  " << e.path << " #" << e.index << ": want " << e.status << " " << e.replyCode << " "
                   << e.reason << ", got " << r.enhancedCode << " " << code << " " << r.diagnosis.reason << " ["
                   << r.format << "] " << r.replyText.substr(0, 100) << "\n";
    }
    std::cout << std::fixed << std::setprecision(1) << std::left << std::setw(24) << "family" << std::right
              << std::setw(6) << "rows" << std::setw(9) << "result" << std::setw(9) << "status" << std::setw(9)
              << "code" << std::setw(9) << "reason"
              << "\n";
    for (const auto& [name, t] : families)
        std::cout << std::left << std::setw(24) << name << std::right << std::setw(6) << t.rows << std::setw(9)
                  << pct(t.found, t.rows) << std::setw(9) << pct(t.status, t.rows) << std::setw(9)
                  << pct(t.code, t.rows) << std::setw(9) << pct(t.reason, t.rows) << "\n";
    std::cout << std::left << std::setw(24) << "ALL" << std::right << std::setw(6) << all.rows << std::setw(9)
              << pct(all.found, all.rows) << std::setw(9) << pct(all.status, all.rows) << std::setw(9)
              << pct(all.code, all.rows) << std::setw(9) << pct(all.reason, all.rows) << "\n";
    if (std::getenv("BT_CORPUS_MISSES"))
        std::cout << "misses:\n" << misses.str();
    return all;
}

} // namespace

TEST(Corpus, SisimaiAgreementPerFormatFamily)
{
    const Tally all = agreement(bt::BounceReader(classifier()));

    EXPECT_GE(pct(all.found, all.rows), kCoverageFloor);
    EXPECT_GE(pct(all.status, all.rows), kStatusFloor);
    EXPECT_GE(pct(all.code, all.rows), kReplyCodeFloor);
    EXPECT_GE(pct(all.reason, all.rows), kReasonFloor);
}

// The same corpus read as if every MTA were one no module knows: only the reports that say what
// they are (ARF, auto-replies, RFC 3464 delivery reports, in a MIME part or written in the text)
// and the generic reader. This is what a bounce of a new MTA, or of a variant a module does not
// recognise, gets; it keeps the fallback honest. Measured 99.6 / 92.9 / 96.3 / 90.1 % (result,
// status, code, reason) with every MTA module taken out; floors a little below.
TEST(Corpus, WithoutTheMtaModulesTheGenericReaderStillReadsTheCorpus)
{
    const bt::BounceReader reader(classifier(), {"arf", "auto_reply", "rfc3464", "generic"});
    const Tally all = agreement(reader);
    EXPECT_GE(pct(all.found, all.rows), 98.0);
    EXPECT_GE(pct(all.status, all.rows), 90.0);
    EXPECT_GE(pct(all.code, all.rows), 93.5);
    EXPECT_GE(pct(all.reason, all.rows), 88.0);
    // And it is a different reader: the modules add something the fallback lacks.
    const Tally full = agreement(bt::BounceReader(classifier()));
    EXPECT_GT(full.reason, all.reason);
}

// Which command a "User unknown" answered decides between a mailbox that does not exist (RCPT
// TO) and a filter's refusal: the generic reader reads it from a session transcript (">>> RCPT
// To:<a@b>" / "<<< 550 …") and from a tag after the reply ("[RCPT_TO]"), as the MTA modules do.
TEST(Corpus, TheGenericReaderReadsTheStageFromATranscriptOrATag)
{
    const bt::BounceReader reader(classifier(), {"generic"});
    for (const char* file : {"maildir/bsd/lhost-v5sendmail-03.eml", "maildir/bsd/lhost-yahoo-05.eml"}) {
        std::ifstream f(kCorpus / "sisimai" / file, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto out = reader.read(bytes);
        ASSERT_FALSE(out.records.empty()) << file;
        for (const auto& r : out.records) {
            EXPECT_EQ(r.format, "generic") << file;
            EXPECT_EQ(r.diagnosis.smtpStage, "RCPT TO") << file << " " << r.recipient;
            EXPECT_EQ(r.diagnosis.reason, "userunknown") << file << " " << r.recipient << ": " << r.replyText;
        }
    }
}

TEST(Corpus, AReaderForAnUnknownFormatModuleIsRefused)
{
    EXPECT_THROW(bt::BounceReader(classifier(), {"generic", "postfx"}), std::invalid_argument);
}

TEST(Corpus, EveryFileGoesThroughWithoutCrash)
{
    // All folders and line endings, the mbox files and the 0-3 byte edge cases.
    const bt::BounceReader reader(classifier());
    std::size_t messages = 0, withRecords = 0, errors = 0;
    bt::forEachMessage(
        kCorpus / "sisimai",
        [&](bt::SourceMessage&& m) {
            ++messages;
            const auto outcome = reader.read(m.bytes);
            EXPECT_TRUE(outcome.warnings.empty()) << m.path << ": " << outcome.warnings.front();
            if (!outcome.records.empty())
                ++withRecords;
            else
                EXPECT_FALSE(outcome.error.empty()) << m.path << " gave neither records nor a reason";
            return true;
        },
        [&](const std::string&, const std::string&) { ++errors; });
    std::cout << messages << " messages, " << withRecords << " with records, " << errors << " unreadable files\n";
    EXPECT_GT(messages, 650u);
    EXPECT_EQ(errors, 0u);
}

TEST(Corpus, FuzzFindingsStayFixed)
{
    // Inputs the fuzzer once broke a format module with (tests/data/fuzz, see tests/fuzz/README.md).
    const bt::BounceReader reader(classifier());
    std::size_t n = 0;
    for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(BT_TEST_DATA) / "fuzz" / "email")) {
        std::ifstream in(f.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto out = reader.read(bytes);
        EXPECT_TRUE(out.warnings.empty()) << f.path() << ": " << out.warnings.front();
        EXPECT_TRUE(!out.records.empty() || !out.error.empty()) << f.path();
        ++n;
    }
    EXPECT_GT(n, 0u);
}

namespace
{

/// Every "<…@…>" token of the Message-ID-like fields anywhere in the file (the bounce's own and the
/// returned message's, folded lines included), and every "id <…>" token of a Received line.
std::vector<std::string> messageIdTokens(const std::string& bytes)
{
    std::vector<std::string> out;
    bool inIdField = false;
    std::istringstream in(bytes);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        const bool folded = !line.empty() && (line[0] == ' ' || line[0] == '\t');
        if (!folded) {
            std::string name = line.substr(0, line.find(':'));
            for (auto& c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const auto start = name.find_first_not_of(" \t");
            name = start == std::string::npos ? std::string() : name.substr(start);
            inIdField = name == "message-id" || name == "references" || name == "in-reply-to" || name == "content-id"
                || name == "x-message-id" || name == "resent-message-id" || name == "original-message-id"
                || name == "x-original-message-id";
        }
        std::string lower = line;
        for (auto& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (auto lt = line.find('<'); lt != std::string::npos; lt = line.find('<', lt + 1)) {
            const auto gt = line.find('>', lt);
            if (gt == std::string::npos)
                break;
            const bool afterId = lt >= 3 && lower.compare(lt - 3, 3, "id ") == 0;
            if (inIdField || afterId)
                out.push_back(lower.substr(lt + 1, gt - lt - 1));
        }
    }
    return out;
}

std::string lowered(std::string s)
{
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

TEST(Corpus, ReportedRecipientsAreTheBouncesRecipients)
{
    // The tsv has no address column: per file, the number of records must be the number of rows
    // (with at most two files off, where the tsv itself lists a recipient twice or leaves one out),
    // and in every file of the corpus no reported recipient may be a Message-ID/References token,
    // an "id <…>" of a Received line, a "key=address" of an authentication result or the bounce's
    // own sender. Before the reader kept to the addresses the bounce names, 40 of 550 records
    // were such tokens and headers.
    std::ifstream in(kCorpus / "sisimai-expected.tsv");
    ASSERT_TRUE(in);
    std::map<std::string, std::size_t> rows;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos)
            ++rows[line.substr(0, tab)];
    }
    const bt::BounceReader reader(classifier());
    std::size_t expected = 0, reported = 0, files = 0;
    std::vector<std::string> countOff, notRecipients;
    for (const auto& e : std::filesystem::recursive_directory_iterator(kCorpus / "sisimai" / "maildir")) {
        if (!e.is_regular_file())
            continue;
        ++files;
        std::ifstream f(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto records = reader.read(bytes).records;
        const auto rel = std::filesystem::relative(e.path(), kCorpus / "sisimai").generic_string();
        if (const auto it = rows.find(rel); it != rows.end()) {
            expected += it->second;
            reported += records.size();
            if (records.size() != it->second)
                countOff.push_back(rel + ": " + std::to_string(records.size()) + " records, "
                                   + std::to_string(it->second) + " rows");
        }
        const auto ids = messageIdTokens(bytes);
        const auto email = bt::parseEmail(bytes);
        const std::string bounceFrom = email ? lowered(email->headers.get("From")) : std::string();
        for (const auto& r : records) {
            if (r.kind == "auto_reply" || r.kind == "feedback" || r.recipient.empty())
                continue; // an auto-reply's recipient is its sender; ARF names the complainer
            const auto a = lowered(r.recipient);
            std::string why;
            if (std::find(ids.begin(), ids.end(), a) != ids.end())
                why = "a Message-ID token";
            else if (const auto eq = a.find('=');
                     eq != std::string::npos && eq > 0 && a.find_first_not_of("abcdefghijklmnopqrstuvwxyz.-_") == eq)
                why = "a key=value token"; // smtp.mailfrom=a@b (an encoded word "=?utf-8?…" is not)
            else if (!bounceFrom.empty() && bounceFrom.find(a) != std::string::npos)
                why = "the bounce's own From";
            if (!why.empty())
                notRecipients.push_back(rel + ": " + r.recipient + " is " + why);
        }
    }
    std::cout << files << " files; on the labelled ones " << reported << " records for " << expected
              << " expected rows, " << countOff.size() << " files off\n";
    for (const auto& s : countOff)
        std::cout << "  " << s << "\n";
    EXPECT_GT(files, 600u);
    EXPECT_LE(countOff.size(), 2u);
    EXPECT_NEAR(double(reported), double(expected), 0.02 * double(expected));
    for (const auto& s : notRecipients)
        ADD_FAILURE() << s;
}

TEST(Corpus, DamagedMimeReadsAsTheIntactMessage)
{
    // What gateways do to bounces, applied to every multipart bounce of maildir/bsd: the declared
    // boundary changed in the header only, the Content-Type field dropped from the header, the
    // report part relabelled text/plain. Each must read as the intact message did.
    const bt::BounceReader reader(classifier());
    struct Damage {
        const char* name;
        std::size_t tried = 0;
        std::vector<std::string> differ;
    };
    Damage damages[] = {{"boundary", 0, {}}, {"no-content-type", 0, {}}, {"report-as-text", 0, {}}};
    auto lowerOf = [](std::string s) {
        for (auto& c : s)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    auto same = [](const std::vector<bt::BounceRecord>& a, const std::vector<bt::BounceRecord>& b) {
        return a.size() == b.size()
            && std::equal(a.begin(), a.end(), b.begin(), [](const bt::BounceRecord& x, const bt::BounceRecord& y) {
                   return x.recipient == y.recipient && x.basicCode == y.basicCode && x.enhancedCode == y.enhancedCode
                       && x.diagnosis.reason == y.diagnosis.reason;
               });
    };
    for (const auto& e : std::filesystem::directory_iterator(kCorpus / "sisimai" / "maildir" / "bsd")) {
        std::ifstream f(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto headerEnd = bytes.find("\n\n");
        if (headerEnd == std::string::npos)
            continue;
        const std::string lowerHead = lowerOf(bytes.substr(0, headerEnd));
        const auto intact = reader.read(bytes).records;
        const auto name = e.path().filename().string();
        auto check = [&](Damage& d, const std::string& damaged) {
            ++d.tried;
            if (!same(intact, reader.read(damaged).records))
                d.differ.push_back(name);
        };
        if (auto b = lowerHead.find("boundary="); b != std::string::npos) {
            b += 9;
            if (b < lowerHead.size() && lowerHead[b] == '"')
                ++b;
            std::string damaged = bytes;
            damaged.insert(b, "XX"); // the body's delimiter lines no longer match
            check(damages[0], damaged);
            // The Content-Type field with its folded lines, gone.
            const auto ct = lowerHead.rfind("\ncontent-type:", lowerHead.find("boundary=")) + 1;
            auto end = bytes.find('\n', ct);
            while (end != std::string::npos && end + 1 < headerEnd && (bytes[end + 1] == ' ' || bytes[end + 1] == '\t'))
                end = bytes.find('\n', end + 1);
            if (ct > 0 && end != std::string::npos)
                check(damages[1], bytes.substr(0, ct) + bytes.substr(end + 1));
        }
        const std::string lowerAll = lowerOf(bytes);
        if (const auto p = lowerAll.find("content-type: message/delivery-status"); p != std::string::npos) {
            std::string damaged = bytes;
            damaged.replace(p + 14, 23, "text/plain");
            check(damages[2], damaged);
        }
    }
    for (const auto& d : damages) {
        std::cout << d.name << ": " << d.tried << " bounces damaged, " << d.differ.size() << " read differently\n";
        EXPECT_GT(d.tried, 200u) << d.name;
        // One bounce forwarded whole inside a text part (a report within a report) may differ.
        EXPECT_LE(d.differ.size(), 1u) << d.name;
        for (const auto& n : d.differ)
            std::cout << "  " << n << "\n";
    }
}

TEST(Corpus, TransferEncodedOrRefoldedBouncesReadAlike)
{
    // Two more things relays and gateways do to a bounce on its way: a single-part text bounce
    // re-sent base64-encoded, and the report's Diagnostic-Code folded again at another width
    // (50 columns), which splits the server's reply across lines elsewhere. Each must read as the
    // intact message did (measured 2026-12-06: 106 and 155 bounces, none read differently).
    const bt::BounceReader reader(classifier());
    const auto key = recordKeys;
    auto base64 = [](std::string_view in) {
        static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string out;
        std::size_t column = 0;
        for (std::size_t i = 0; i < in.size(); i += 3) {
            std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
            if (i + 1 < in.size())
                v |= static_cast<unsigned char>(in[i + 1]) << 8;
            if (i + 2 < in.size())
                v |= static_cast<unsigned char>(in[i + 2]);
            const std::size_t n = std::min<std::size_t>(3, in.size() - i);
            out += kAlphabet[(v >> 18) & 63];
            out += kAlphabet[(v >> 12) & 63];
            out += n > 1 ? kAlphabet[(v >> 6) & 63] : '=';
            out += n > 2 ? kAlphabet[v & 63] : '=';
            if ((column += 4) >= 76) {
                out += '\n';
                column = 0;
            }
        }
        return out + "\n";
    };
    auto refold = [](std::string_view field) {
        // Unfolded, then folded again before the word that would pass column 50.
        std::string flat;
        for (std::size_t i = 0; i < field.size(); ++i) {
            if (field[i] == '\n') {
                while (i + 1 < field.size() && (field[i + 1] == ' ' || field[i + 1] == '\t'))
                    ++i;
                flat += ' ';
            } else {
                flat += field[i];
            }
        }
        std::string out;
        std::size_t column = 0;
        std::size_t start = 0;
        while (start < flat.size()) {
            auto end = flat.find(' ', start);
            if (end == std::string::npos)
                end = flat.size();
            const auto word = std::string_view(flat).substr(start, end - start);
            if (!word.empty()) {
                if (!out.empty() && column + 1 + word.size() > 50) {
                    out += "\n   ";
                    column = 3;
                } else if (!out.empty()) {
                    out += ' ';
                    ++column;
                }
                out += word;
                column += word.size();
            }
            start = end + 1;
        }
        return out;
    };
    // A single-part text bounce (header with LF line ends) re-sent with its body base64-encoded;
    // empty when the bounce is multipart or already transfer-encoded.
    auto encodedBounce = [&](const std::string& head, std::string_view body) {
        std::string lowerHead = head;
        for (auto& c : lowerHead)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto ct = lowerHead.find("content-type:");
        const bool text = ct == std::string::npos
            || lowerHead.compare(lowerHead.find_first_not_of(" \t", ct + 13), 5, "text/") == 0;
        if (!text || lowerHead.find("content-transfer-encoding:") != std::string::npos)
            return std::string();
        std::string damaged = head;
        if (lowerHead.find("mime-version:") == std::string::npos)
            damaged += "\nMIME-Version: 1.0";
        if (ct == std::string::npos)
            damaged += "\nContent-Type: text/plain; charset=utf-8";
        return damaged + "\nContent-Transfer-Encoding: base64\n\n" + base64(body);
    };
    std::size_t encoded = 0, refolded = 0;
    std::vector<std::string> differ;
    for (const auto& e : std::filesystem::directory_iterator(kCorpus / "sisimai" / "maildir" / "bsd")) {
        std::ifstream f(e.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::erase(bytes, '\r');
        const auto headerEnd = bytes.find("\n\n");
        if (headerEnd == std::string::npos)
            continue;
        const auto intact = key(reader.read(bytes).records);
        const auto name = e.path().filename().string();
        if (const auto damaged
            = encodedBounce(bytes.substr(0, headerEnd), std::string_view(bytes).substr(headerEnd + 2));
            !damaged.empty()) {
            ++encoded;
            if (key(reader.read(damaged).records) != intact)
                differ.push_back("base64 " + name);
        }
        std::string damaged;
        std::size_t pos = 0;
        bool changed = false;
        for (;;) {
            auto at = bytes.find("\nDiagnostic-Code:", pos);
            if (at == std::string::npos) {
                damaged += bytes.substr(pos);
                break;
            }
            ++at;
            auto end = bytes.find('\n', at);
            while (end != std::string::npos && end + 1 < bytes.size()
                   && (bytes[end + 1] == ' ' || bytes[end + 1] == '\t'))
                end = bytes.find('\n', end + 1);
            if (end == std::string::npos)
                end = bytes.size();
            const auto folded = refold(std::string_view(bytes).substr(at, end - at));
            changed = changed || folded != bytes.substr(at, end - at);
            damaged += bytes.substr(pos, at - pos) + folded;
            pos = end;
        }
        // Not where the report is quoted-printable: refolding its encoded text would break the
        // encoding ("550=" then a new line is a soft line break), not just move a line break.
        std::string lowerAll = bytes;
        for (auto& c : lowerAll)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (changed && lowerAll.find("quoted-printable") == std::string::npos) {
            ++refolded;
            if (key(reader.read(damaged).records) != intact)
                differ.push_back("refolded " + name);
        }
    }
    // The old Mac files (CR line ends) re-sent the same way keep their CRs inside the base64, so
    // only the decoded text has bare CRs; read as one line, m-FILTER's reply ran on into the
    // returned message (2026-12-07). Their reply texts must stay too.
    std::size_t crEncoded = 0;
    for (const auto& e : std::filesystem::directory_iterator(kCorpus / "sisimai" / "maildir" / "mac")) {
        std::ifstream f(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto headerEnd = bytes.find("\r\r");
        if (headerEnd == std::string::npos || bytes.find('\n') != std::string::npos)
            continue;
        // The header in LF, without a 7bit or 8bit Content-Transfer-Encoding (the body's
        // bytes are sent as they are, so base64 replaces it).
        std::string lf = bytes.substr(0, headerEnd);
        std::replace(lf.begin(), lf.end(), '\r', '\n');
        std::string head;
        for (const auto& line : bt::text::splitLines(lf)) {
            const bool plainEncoding = bt::text::startsWithNoCase(line.text, "Content-Transfer-Encoding:")
                && (bt::text::findNoCase(line.text, "7bit") != std::string_view::npos
                    || bt::text::findNoCase(line.text, "8bit") != std::string_view::npos);
            if (!plainEncoding)
                head.append(head.empty() ? "" : "\n").append(line.text);
        }
        const auto damaged = encodedBounce(head, std::string_view(bytes).substr(headerEnd + 2));
        if (damaged.empty())
            continue;
        const auto intact = reader.read(bytes).records;
        if (intact.empty())
            continue;
        ++crEncoded;
        const auto read = reader.read(damaged).records;
        bool same = key(read) == key(intact);
        for (std::size_t i = 0; same && i < read.size(); ++i)
            same = read[i].replyText == intact[i].replyText;
        if (!same)
            differ.push_back("base64 with CR line ends " + e.path().filename().string());
    }
    std::cout << encoded << " bounces base64-encoded, " << crEncoded << " with CR line ends, " << refolded
              << " with their Diagnostic-Code refolded, " << differ.size() << " read differently\n";
    for (const auto& d : differ)
        std::cout << "  " << d << "\n";
    EXPECT_GT(encoded, 80u);
    EXPECT_GE(crEncoded, 10u);
    EXPECT_GT(refolded, 140u);
    EXPECT_TRUE(differ.empty());
}

TEST(Corpus, BounceThroughAMailGatewayReadsAlike)
{
    // What a company's gateway does to every message on its way to the person who reads the
    // bounce: a tag in front of the subject ("[External]", "*****SPAM*****" …), its own Received
    // and X- fields on top, a banner above the text ("CAUTION: This email originated from outside
    // of the organization …"), a footer below it ("This email has been scanned for viruses …").
    // Each must read as the intact message did. Measured 2026-12-06 before the fixes: a tagged
    // subject changed 1 of 487 bounces (Domino's "DELIVERY FAILURE:"), the banner 5 (SES
    // notifications, whose JSON no longer started the body), the footer 8 ("viruses" in it read
    // as a virus refusal where the reply says nothing, and Exchange's recipient block ran on
    // into it).
    const bt::BounceReader reader(classifier());
    const auto key = recordKeys;
    const auto lower = lowered;
    static constexpr const char* kTags[] = {"[External] ", "*****SPAM***** ", "[SPAM] ", "EXTERNAL: ", "[EXT] "};
    static constexpr const char* kBanner
        = "CAUTION: This email originated from outside of the organization. Do not click links or open\n"
          "attachments unless you recognize the sender and know the content is safe.\n\n";
    static constexpr const char* kFooter = "\n\n--\nThis email has been scanned for viruses and malware by Example "
                                           "Gateway.\n";
    std::size_t files = 0, tagged = 0, framed = 0;
    std::vector<std::string> differ;
    for (const auto& [name, bytes] : corpusBsd()) {
        const auto headerEnd = bytes.find("\n\n");
        if (headerEnd == std::string::npos)
            continue;
        const std::string head = bytes.substr(0, headerEnd), body = bytes.substr(headerEnd);
        const std::string lowerHead = lower(head);
        const auto intact = key(reader.read(bytes).records);
        auto check = [&](const std::string& what, const std::string& changed) {
            if (key(reader.read(changed).records) != intact)
                differ.push_back(what + " " + name);
        };
        // The subject tagged, the gateway's fields on top.
        const auto subject = lowerHead.starts_with("subject:")  ? 0
            : lowerHead.find("\nsubject:") != std::string::npos ? lowerHead.find("\nsubject:") + 1
                                                                : std::string::npos;
        std::string gateway = "Received: from gw.corp.example (gw.corp.example [192.0.2.1])\n\tby mx.corp.example "
                              "with ESMTPS id 4ABC; Mon, 1 Jan 2024 00:00:00 +0000\nX-Virus-Scanned: amavisd-new at "
                              "corp.example\n";
        std::string changedHead = head;
        if (subject != std::string::npos) {
            const auto value = changedHead.find_first_not_of(" \t", subject + 8);
            changedHead.insert(value, kTags[tagged++ % std::size(kTags)]);
        }
        const auto fromLine = head.starts_with("From ") ? head.find('\n') + 1 : 0;
        changedHead.insert(fromLine, gateway);
        check("tagged", changedHead + body);
        ++files;
        // A banner above and a footer below the text: the whole body of a text bounce, or the
        // first text/plain part (not where it is base64 or quoted-printable).
        std::size_t textStart = std::string::npos, textEnd = std::string::npos;
        if (lowerHead.find("multipart/") == std::string::npos) {
            if (lowerHead.find("base64") == std::string::npos
                && lowerHead.find("quoted-printable") == std::string::npos) {
                textStart = 2;
                textEnd = body.size();
            }
        } else {
            const std::string lowerBody = lower(body);
            const auto part = lowerBody.find("content-type: text/plain");
            const auto partBody = part == std::string::npos ? part : lowerBody.find("\n\n", part);
            if (partBody != std::string::npos) {
                const auto partHead = std::string_view(lowerBody).substr(part, partBody - part);
                const auto next = lowerBody.find("\n--", partBody + 2);
                if (partHead.find("base64") == std::string_view::npos
                    && partHead.find("quoted-printable") == std::string_view::npos && next != std::string::npos) {
                    textStart = partBody + 2;
                    textEnd = next;
                }
            }
        }
        if (textStart != std::string::npos) {
            ++framed;
            std::string changed = body;
            changed.insert(textEnd, kFooter);
            changed.insert(textStart, kBanner);
            check("banner and footer", head + changed);
        }
    }
    std::cout << files << " bounces with a tagged subject and a gateway's fields, " << framed
              << " with a banner and a footer, " << differ.size() << " read differently\n";
    for (const auto& d : differ)
        std::cout << "  " << d << "\n";
    EXPECT_GT(files, 480u);
    EXPECT_GT(framed, 370u);
    EXPECT_TRUE(differ.empty());
}

TEST(Corpus, DeliveryStatusFieldsWrittenDifferentlyReadAlike)
{
    // RFC 3464's fields as other MTAs write them: names in lower case, no space after the colon
    // ("Status:5.5.0", valid header syntax), the recipient in angle brackets. Measured 2026-12-06
    // before the fix: "Status:5.5.0" was not read as a field in one bounce, and in two more when
    // the generic reader alone reads them.
    const auto key = recordKeys;
    static constexpr std::string_view kFields[]
        = {"reporting-mta", "final-recipient", "original-recipient", "action",       "status",
           "remote-mta",    "diagnostic-code", "last-attempt-date",  "arrival-date", "received-from-mta"};
    auto rewrite = [](const std::string& bytes, int variant) {
        std::string out;
        std::size_t pos = 0;
        while (pos < bytes.size()) {
            auto end = bytes.find('\n', pos);
            end = end == std::string::npos ? bytes.size() : end + 1;
            std::string line = bytes.substr(pos, end - pos);
            pos = end;
            const auto colon = line.find(':');
            std::string name = colon == std::string::npos ? std::string() : line.substr(0, colon);
            for (auto& c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (std::find(std::begin(kFields), std::end(kFields), name) != std::end(kFields)) {
                if (variant == 0) {
                    line.replace(0, colon, name);
                } else if (variant == 1) {
                    const auto value = line.find_first_not_of(" \t", colon + 1);
                    if (value != std::string::npos && line[value] != '\n')
                        line.erase(colon + 1, value - colon - 1);
                } else if (name == "final-recipient" || name == "original-recipient") {
                    const auto semi = line.find(';', colon);
                    const auto start = semi == std::string::npos ? semi : line.find_first_not_of(" \t", semi + 1);
                    auto stop = line.find_last_not_of(" \t\n");
                    if (start != std::string::npos && stop != std::string::npos && stop > start && line[start] != '<'
                        && line.find('@', start) < stop) {
                        line.insert(stop + 1, ">");
                        line.insert(start, "<");
                    }
                }
            }
            out += line;
        }
        return out;
    };
    std::size_t changed = 0;
    std::vector<std::string> differ;
    for (const auto& formats :
         {std::vector<std::string>(), std::vector<std::string> {"arf", "auto_reply", "rfc3464", "generic"}}) {
        const bt::BounceReader reader
            = formats.empty() ? bt::BounceReader(classifier()) : bt::BounceReader(classifier(), formats);
        for (const auto& [name, bytes] : corpusBsd()) {
            const auto intact = key(reader.read(bytes).records);
            for (int variant = 0; variant < 3; ++variant) {
                const auto rewritten = rewrite(bytes, variant);
                if (rewritten == bytes)
                    continue;
                ++changed;
                if (key(reader.read(rewritten).records) != intact)
                    differ.push_back(std::string(formats.empty() ? "" : "generic reader, ")
                                     + (variant == 0       ? "lower case "
                                            : variant == 1 ? "no space "
                                                           : "angle brackets ")
                                     + name);
            }
        }
    }
    std::cout << changed << " bounces with their report's fields rewritten, " << differ.size() << " read differently\n";
    for (const auto& d : differ)
        std::cout << "  " << d << "\n";
    EXPECT_GT(changed, 1000u);
    EXPECT_TRUE(differ.empty());
}

TEST(Corpus, BounceForwardedAsAnAttachmentReadsAsTheBounce)
{
    // Deliverability staff get bounces forwarded by colleagues: "Fwd:" from a person, a line of
    // text, the bounce attached as message/rfc822. It must read as the bounce itself, not as a
    // bounce of the person's message with some address of the attachment as its recipient.
    const bt::BounceReader reader(classifier());
    std::size_t tried = 0;
    std::vector<std::string> differ;
    auto key = [](const std::vector<bt::BounceRecord>& rs) {
        std::vector<std::string> out;
        for (const auto& r : rs)
            out.push_back(r.recipient + "|" + r.enhancedCode + "|" + r.diagnosis.reason);
        std::sort(out.begin(), out.end());
        return out;
    };
    for (const auto& e : std::filesystem::directory_iterator(kCorpus / "sisimai" / "maildir" / "bsd")) {
        std::ifstream f(e.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto intact = reader.read(bytes).records;
        if (intact.empty())
            continue;
        ++tried;
        // A subject of the person's own, and the one mail clients make by default: the bounce's
        // subject ("Undeliverable: …", "Mail delivery failed") behind their forward prefix.
        const auto email = bt::parseEmail(bytes);
        const std::string bounceSubject = email ? email->headers.get("Subject") : std::string();
        for (const std::string& subject :
             {std::string("Fwd: can you look at this?"), "WG: " + bounceSubject, "Fwd: " + bounceSubject}) {
            const std::string forward = "From: Alice Example <alice@corp.example>\nTo: deliverability@corp.example\n"
                                        "Subject: "
                + subject
                + "\nDate: Sat, 05 Dec 2026 10:00:00 +0000\n"
                  "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"fwd-b\"\n\n"
                  "--fwd-b\nContent-Type: text/plain; charset=utf-8\n\nThis one bounced, why?\n\n"
                  "--fwd-b\nContent-Type: message/rfc822\n\n"
                + bytes + "\n--fwd-b--\n";
            if (key(intact) != key(reader.read(forward).records))
                differ.push_back(e.path().filename().string() + " (" + subject.substr(0, 40) + ")");
        }
    }
    std::cout << tried << " bounces forwarded as attachments, " << differ.size() << " read differently\n";
    for (const auto& d : differ)
        std::cout << "  " << d << "\n";
    EXPECT_GT(tried, 400u);
    // Every one, including attachments that do not say they are reports (no daemon sender, no
    // report type, no bounce subject, no Auto-Submitted: SES notifications sent as SNS mail,
    // KDDI's Japanese subjects, abuse reports typed text/plain, auto-replies without
    // Auto-Submitted), which read as a bounce of Alice's message before the first attached
    // message was tried as the bounce (14 of 487).
    EXPECT_TRUE(differ.empty());
}

namespace
{

struct ForwardTally {
    std::size_t tried = 0, sameRecipients = 0, sameRecords = 0;
};

/// Reads every corpus bounce (bsd folder; not feedback reports) as it is and as `forward` makes
/// a person's message of it, and counts those that give the same recipients, and the same
/// recipients, codes and reasons.
ForwardTally forwardedAlike(const std::function<std::string(const bt::Email&)>& forward)
{
    const bt::BounceReader reader(classifier());
    ForwardTally t;
    auto key = [](const std::vector<bt::BounceRecord>& rs, bool full) {
        std::vector<std::string> out;
        for (const auto& r : rs) {
            std::string a = r.recipient;
            for (auto& c : a)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            out.push_back(full ? a + "|" + r.enhancedCode + "|" + r.diagnosis.reason : a);
        }
        std::sort(out.begin(), out.end());
        return out;
    };
    for (const auto& e : std::filesystem::directory_iterator(kCorpus / "sisimai" / "maildir" / "bsd")) {
        std::ifstream f(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto email = bt::parseEmail(bytes);
        const auto intact = reader.read(bytes).records;
        if (!email || intact.empty() || !email->feedbackReport.empty())
            continue;
        ++t.tried;
        const auto read = reader.read(forward(*email)).records;
        t.sameRecipients += key(intact, false) == key(read, false);
        t.sameRecords += key(intact, true) == key(read, true);
    }
    return t;
}

const std::string kPersonsHeaders = "From: Alice Example <alice@corp.example>\nTo: deliverability@corp.example\n"
                                    "Date: Sat, 05 Dec 2026 10:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n";

/// Prints how many of the corpus bounces `what` (a person's forward or reply of them) read as the
/// bounce itself, and expects at least the floors (percent).
void expectReadAlike(const char* what, const ForwardTally& t, std::size_t recipientsFloor, std::size_t recordsFloor)
{
    std::cout << t.tried << " bounces " << what << ": the same recipients in " << t.sameRecipients
              << ", the same recipients, codes and reasons in " << t.sameRecords << "\n";
    EXPECT_GT(t.tried, 400u);
    EXPECT_GE(t.sameRecipients * 100, t.tried * recipientsFloor) << what;
    EXPECT_GE(t.sameRecords * 100, t.tried * recordsFloor) << what;
}

} // namespace

TEST(Corpus, BounceForwardedInlineReadsAsTheBounce)
{
    // The other way people forward: inline, as a mail client writes it: a marker line, the
    // bounce's From/Date/Subject/To, its text (and its report's fields as text); attachments
    // (the returned message) are gone. Measured, not required to be exact: the mail client
    // drops what some formats need (the returned message's headers, the MIME structure).
    const auto t = forwardedAlike([](const bt::Email& email) {
        const auto& h = email.headers;
        // The subject as a mail client makes it: "Fwd: " and the bounce's own, which alone reads
        // as a report's ("Undelivered Mail Returned to Sender").
        return kPersonsHeaders + "Subject: Fwd: " + h.get("Subject")
            + "\n\nWhy did this bounce?\n\n---------- Forwarded message ---------\nFrom: " + h.get("From")
            + "\nDate: " + h.get("Date") + "\nSubject: " + h.get("Subject") + "\nTo: " + h.get("To") + "\n\n"
            + email.body + "\n" + email.deliveryStatus + "\n";
    });
    // Floors a little below the level measured (2026-12-06: 456 and 432 of 476, 95.8 % and
    // 90.8 %; 452 and 419 while a "Fwd: Undelivered Mail…" subject made the person's message a
    // report; 93 % and 87 % when a forward had to say it was a report); a change that reads
    // forwards worse shows here.
    expectReadAlike("forwarded inline", t, 95, 89);
}

namespace
{

/// A mail client's field names for a forwarded message's header block, and its forward prefix.
struct ForwardFields {
    const char *from, *date, *to, *subject, *prefix;
};

/// `email` forwarded inline by a person: the subject behind the client's prefix, `above` (the
/// person's words and whatever the client writes above the fields), the fields, the bounce's text
/// and its report's fields as text.
std::string forwardedInline(const bt::Email& email, const ForwardFields& f, const std::string& above)
{
    const auto& h = email.headers;
    return kPersonsHeaders + "Subject: " + f.prefix + h.get("Subject") + "\n\n" + above + f.from + h.get("From") + "\n"
        + f.date + h.get("Date") + "\n" + f.to + h.get("To") + "\n" + f.subject + h.get("Subject") + "\n\n" + email.body
        + "\n" + email.deliveryStatus + "\n";
}

} // namespace

TEST(Corpus, BounceForwardedInlineInOtherLanguagesReadsAsTheBounce)
{
    // The same forward as mail clients write it in German (Outlook: "-----Ursprüngliche
    // Nachricht-----", "Von:", "Gesendet:", "An:", "Betreff:"), French (Thunderbird: "Message
    // transféré", "De :", "Date :", "À :", "Objet :"), Spanish, Italian, Dutch and Portuguese
    // (Outlook), each bounce in one of them in turn. Measured 2026-12-06 with German and French
    // only: 428 and 399 of 476 while only English markers and names were read (the person's own
    // message was read instead), 456 and 432 after, as in English.
    struct Language {
        const char* marker;
        ForwardFields fields;
    };
    static const Language kLanguages[] = {
        {"-----Urspr\xC3\xBCngliche Nachricht-----", {"Von: ", "Gesendet: ", "An: ", "Betreff: ", "WG: "}},
        {"-------- Message transf\xC3\xA9r\xC3\xA9 --------", {"De : ", "Date : ", "\xC3\x80 : ", "Objet : ", "TR: "}},
        {"-----Mensaje original-----", {"De: ", "Enviado el: ", "Para: ", "Asunto: ", "RV: "}},
        {"-----Messaggio originale-----", {"Da: ", "Inviato: ", "A: ", "Oggetto: ", "I: "}},
        {"-----Oorspronkelijk bericht-----", {"Van: ", "Verzonden: ", "Aan: ", "Onderwerp: ", "FW: "}},
        {"-----Mensagem original-----", {"De: ", "Enviada em: ", "Para: ", "Assunto: ", "ENC: "}},
    };
    std::size_t turn = 0;
    const auto t = forwardedAlike([&turn](const bt::Email& email) {
        const auto& l = kLanguages[turn++ % std::size(kLanguages)];
        return forwardedInline(email, l.fields, std::string("?\n\n") + l.marker + "\n");
    });
    expectReadAlike("forwarded inline in six other languages", t, 95, 89);
}

TEST(Corpus, BounceForwardedInlineByOutlookWithoutAMarkerReadsAsTheBounce)
{
    // Outlook today writes no "-----Original Message-----" above a forwarded message: a rule of
    // underscores at most, then its fields in the reader's language, right after the person's
    // signature. Measured 2026-12-07: the person's own message was read instead (and the
    // forwarded bounce's To, the sender, named on the "An:" line, taken for a failed recipient).
    struct Client {
        const char* rule;
        ForwardFields fields;
    };
    static const Client kClients[] = {
        {"________________________________\n", {"From: ", "Sent: ", "To: ", "Subject: ", "FW: "}},
        {"", {"Von: ", "Gesendet: ", "An: ", "Betreff: ", "WG: "}},
        {"________________________________\n", {"De : ", "Envoy\xC3\xA9 : ", "\xC3\x80 : ", "Objet : ", "TR: "}},
        {"", {"De: ", "Enviado el: ", "Para: ", "Asunto: ", "RV: "}},
    };
    std::size_t turn = 0;
    const auto t = forwardedAlike([&turn](const bt::Email& email) {
        const auto& c = kClients[turn++ % std::size(kClients)];
        return forwardedInline(email, c.fields,
                               std::string("Why did this come back?\n\nAlice Example\nSales\n\n") + c.rule);
    });
    expectReadAlike("forwarded inline by Outlook without a marker", t, 95, 89);
}

TEST(Corpus, BounceQuotedInAReplyReadsAsTheBounce)
{
    // A person answers the bounce instead: the mail client's attribution line ("On …, … wrote:")
    // and the bounce's text behind "> ", its report's fields too; no headers of the bounce.
    const auto t = forwardedAlike([](const bt::Email& email) {
        std::string quoted;
        std::istringstream lines(email.body + "\n" + email.deliveryStatus);
        for (std::string line; std::getline(lines, line);)
            quoted += (line.empty() ? ">" : "> " + line) + "\n";
        return kPersonsHeaders + "Subject: Re: " + email.headers.get("Subject") + "\n\nWhy did this bounce?\n\nOn "
            + email.headers.get("Date") + ", " + email.headers.get("From") + " wrote:\n" + quoted;
    });
    // Measured 2026-12-06: 346 and 275 of 476 while nothing read a quoted bounce (the marks
    // stayed), 372 and 307 when it was read but a "Re: Undelivered Mail…" subject still made
    // the person's message a report, 453 and 421 (95.2 %, 88.4 %) now. Floors a little below.
    expectReadAlike("quoted in a reply", t, 93, 86);
}

TEST(Corpus, ABounceWrittenInHtmlReadsAsItsPlainText)
{
    // Exchange, Office 365 and webmail write NDRs as HTML: the same words in <br>-separated lines,
    // indents as &nbsp;, entities, the source wrapped anywhere. Each bounce's text is written once
    // as text/plain and once as such HTML, with the same report part: both must read alike.
    const bt::BounceReader reader(classifier());
    std::size_t tried = 0;
    std::vector<std::string> differ;
    auto key = [](const std::vector<bt::BounceRecord>& rs) {
        std::vector<std::string> out;
        for (const auto& r : rs) {
            // HTML shows a run of spaces as one: the reply's words are compared, not its spacing.
            std::string words;
            for (const char c : r.diagnosis.replyText)
                if (!(c == ' ' && !words.empty() && words.back() == ' '))
                    words += c;
            out.push_back(r.recipient + "|" + r.enhancedCode + "|" + r.diagnosis.reason + "|" + words);
        }
        std::sort(out.begin(), out.end());
        return out;
    };
    auto asHtml = [](std::string_view text) {
        std::string h = "<html><head><style>p { margin: 0 }</style></head>\n<body><div>";
        std::size_t column = 0;
        bool lineStart = true;
        for (const char c : text) {
            if (c == '\n') {
                h += "<br>\n";
                lineStart = true;
                column = 0;
                continue;
            }
            if (c == ' ' && lineStart) {
                h += "&nbsp;";
                continue;
            }
            lineStart = false;
            if (c == '&')
                h += "&amp;";
            else if (c == '<')
                h += "&lt;";
            else if (c == '>')
                h += "&gt;";
            else if (c == ' ' && ++column > 60) {
                h += "\n"; // the HTML source wraps where it likes: only whitespace to a browser
                column = 0;
            } else
                h += c;
        }
        return h + "</div></body></html>";
    };
    for (const auto& e : std::filesystem::directory_iterator(kCorpus / "sisimai" / "maildir" / "bsd")) {
        std::ifstream f(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto email = bt::parseEmail(bytes);
        if (!email || email->body.empty() || !email->feedbackReport.empty())
            continue;
        const auto& h = email->headers;
        auto message = [&](const std::string& type, const std::string& body) {
            std::string m = "From: " + h.get("From") + "\nTo: " + h.get("To") + "\nSubject: " + h.get("Subject")
                + "\nDate: " + h.get("Date")
                + "\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
                  "boundary=\"b\"\n\n--b\nContent-Type: "
                + type + "; charset=utf-8\n\n" + body + "\n";
            if (!email->deliveryStatus.empty())
                m += "--b\nContent-Type: message/delivery-status\n\n" + email->deliveryStatus + "\n";
            return m + "--b--\n";
        };
        const auto plain = reader.read(message("text/plain", email->body)).records;
        if (plain.empty())
            continue;
        ++tried;
        if (key(plain) != key(reader.read(message("text/html", asHtml(email->body))).records))
            differ.push_back(e.path().filename().string());
    }
    std::cout << tried << " bounces written as HTML, " << differ.size() << " read unlike their plain text\n";
    for (const auto& d : differ)
        std::cout << "  " << d << "\n";
    EXPECT_GT(tried, 400u);
    EXPECT_LE(differ.size(), tried / 200);
}

TEST(Corpus, TheReportAloneNamesTheSameRecipients)
{
    // A bounce whose prose part is lost (a gateway that keeps attachments only): its delivery
    // report alone must still name the same recipients. The reason may differ, since the prose
    // often states the SMTP stage the report leaves out.
    const bt::BounceReader reader(classifier());
    std::size_t tried = 0;
    std::vector<std::string> differ;
    for (const auto& e : std::filesystem::directory_iterator(kCorpus / "sisimai" / "maildir" / "bsd")) {
        std::ifstream f(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::string lower = bytes;
        for (auto& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto report = lower.find("content-type: message/delivery-status");
        auto b = lower.find("boundary=");
        if (report == std::string::npos || b == std::string::npos)
            continue;
        b += 9;
        if (lower[b] == '"')
            ++b;
        const auto bEnd = lower.find_first_of("\";\r\n", b);
        const std::string delimiter = "\n--" + bytes.substr(b, bEnd - b);
        // The first text/plain part (or one without headers) before the report goes.
        std::size_t cut = std::string::npos, cutEnd = std::string::npos;
        for (auto p = bytes.find(delimiter); p != std::string::npos && p < report; p = bytes.find(delimiter, p + 1)) {
            const auto next = bytes.find(delimiter, p + 1);
            const auto head = lower.substr(p + delimiter.size(), 200);
            if (next != std::string::npos && next < report
                && (head.find("text/plain") != std::string::npos || head.starts_with("\n\n"))) {
                cut = p;
                cutEnd = next;
                break;
            }
        }
        if (cut == std::string::npos)
            continue;
        ++tried;
        const auto intact = reader.read(bytes).records;
        const auto alone = reader.read(bytes.substr(0, cut) + bytes.substr(cutEnd)).records;
        auto addresses = [](const std::vector<bt::BounceRecord>& rs) {
            std::vector<std::string> out;
            for (const auto& r : rs) {
                std::string a = r.recipient;
                for (auto& c : a)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                out.push_back(a);
            }
            std::sort(out.begin(), out.end());
            return out;
        };
        if (addresses(intact) != addresses(alone))
            differ.push_back(e.path().filename().string());
    }
    std::cout << tried << " bounces without their prose, " << differ.size() << " name other recipients\n";
    EXPECT_GT(tried, 200u);
    // Exim reports a pipe or a file as Final-Recipient and names the address it was generated
    // by only in its prose: two such bounces in the corpus.
    EXPECT_LE(differ.size(), 2u);
    for (const auto& d : differ)
        std::cout << "  " << d << "\n";
}
