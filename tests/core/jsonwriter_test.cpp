// SPDX-License-Identifier: MIT
// The JSON writer against nlohmann::json, which printed the CLI's lines before it and still reads
// them in scripts: the same bytes for every string (random bytes, broken UTF-8, control
// characters) and for every line of the fixtures and the corpus.
#include "../fixturereplies.h"
#include "bounce.h"
#include "classifier.h"
#include "json.h"
#include "jsonwriter.h"
#include "knowledge.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>

namespace
{

std::string nlohmannDump(const nlohmann::ordered_json& j)
{
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::shared_ptr<const bt::Classifier> classifier()
{
    static auto c = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    return c;
}

} // namespace

TEST(JsonWriter, StringsAreEscapedByteForByteAsNlohmannDoes)
{
    // Pieces that meet every branch: well-formed 2-, 3- and 4-byte characters, lone continuation
    // bytes, truncated sequences, overlongs, surrogates, code points above U+10FFFF, quotes,
    // backslashes, control characters and DEL; plus uniformly random bytes.
    const std::vector<std::string> pieces = {"550 5.1.1 ",
                                             "\xc3\xa9",
                                             "\xe2\x82\xac",
                                             "\xf0\x9f\x98\x80",
                                             "\x80",
                                             "\xbf",
                                             "\xff",
                                             "\xfe",
                                             "\xc0\xaf",
                                             "\xc1\xbf",
                                             "\xe2\x82",
                                             "\xe0\x80\x80",
                                             "\xe0\xa0",
                                             "\xed\xa0\x80",
                                             "\xed\x9f\xbf",
                                             "\xf0\x90",
                                             "\xf0\x80\x80\x80",
                                             "\xf4\x90\x80\x80",
                                             "\xf4\x8f\xbf\xbf",
                                             "\xf5",
                                             "\"",
                                             "\\",
                                             "\t",
                                             "\n",
                                             "\r",
                                             "\b",
                                             "\f",
                                             std::string(1, '\0'),
                                             "\x01",
                                             "\x1f",
                                             "\x7f",
                                             "/",
                                             "user unknown"};
    std::mt19937 rng(20261205);
    std::size_t checked = 0;
    for (int i = 0; i < 200000; ++i) {
        std::string s;
        const int n = static_cast<int>(rng() % 10);
        for (int k = 0; k < n; ++k)
            s += pieces[rng() % pieces.size()];
        const int raw = static_cast<int>(rng() % 6);
        for (int k = 0; k < raw; ++k)
            s.push_back(static_cast<char>(rng() % 256));
        std::string ours;
        bt::json::appendString(ours, s);
        ASSERT_EQ(ours, nlohmannDump(nlohmann::ordered_json(s))) << "for the bytes of case " << i;
        ++checked;
    }
    EXPECT_EQ(checked, 200000u);
}

// Plain ASCII is copied eight bytes at a time: every byte value, at every place of a run of
// printable text (across two words and the tail), must still be seen and escaped or checked.
TEST(JsonWriter, EveryByteIsSeenAtEveryPlaceOfAPlainRun)
{
    const std::string plain = "Recipient address";
    for (std::size_t at = 0; at < plain.size(); ++at)
        for (int b = 0; b < 256; ++b) {
            std::string s = plain;
            s[at] = static_cast<char>(b);
            std::string ours;
            bt::json::appendString(ours, s);
            ASSERT_EQ(ours, nlohmannDump(nlohmann::ordered_json(s))) << "byte " << b << " at " << at;
        }
}

TEST(JsonWriter, NestingCommasNumbersAndNull)
{
    std::string out;
    bt::json::Writer w(out);
    w.beginObject();
    w.key("a").beginArray().endArray();
    w.key("b").beginObject().endObject();
    w.key("c").beginArray().value(-12).value(std::size_t {7}).null().value(true).beginObject().key("d").value("e");
    w.endObject().endArray();
    w.key("f").nullable("");
    w.key("g").strings({"x", "y"});
    w.endObject();
    EXPECT_EQ(out, R"({"a":[],"b":{},"c":[-12,7,null,true,{"d":"e"}],"f":null,"g":["x","y"]})");
    EXPECT_EQ(out, nlohmannDump(nlohmann::ordered_json::parse(out)));
}

// nlohmann reads every line back and prints it again byte for byte: same separators, escapes,
// numbers and key order; the brief form is the full one without three keys.
TEST(JsonWriter, EveryFixtureAndCorpusLinePrintsBackUnchanged)
{
    std::size_t replies = 0;
    for (const auto& reply : fixtureReplies(BT_SHARED_DIR)) {
        const auto d = classifier()->diagnoseText(reply);
        const auto full = bt::toJson(d);
        auto parsed = nlohmann::ordered_json::parse(full);
        ASSERT_EQ(full, nlohmannDump(parsed));
        const auto brief = bt::toJson(d, bt::JsonDetail::Brief);
        for (const char* key : {"explanation", "steps", "references"})
            parsed.erase(key);
        EXPECT_EQ(brief, nlohmannDump(parsed));
        ++replies;
    }
    EXPECT_GT(replies, 100u);

    const bt::BounceReader reader(classifier());
    std::size_t records = 0;
    for (const auto& e :
         std::filesystem::directory_iterator(std::filesystem::path(BT_SHARED_DIR) / "corpus/sisimai/maildir/bsd")) {
        std::ifstream f(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        for (const auto& r : reader.read(bytes).records) {
            const auto out = bt::toJson(r, e.path().string(), records);
            ASSERT_EQ(out, nlohmannDump(nlohmann::ordered_json::parse(out))) << e.path();
            ++records;
        }
    }
    EXPECT_GT(records, 400u);
}
