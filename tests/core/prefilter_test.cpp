// SPDX-License-Identifier: MIT
// The requirement a pattern sets on a text (core/prefilter.h): what the classifier reads to
// leave a language's phrases uncompiled for a reply that cannot match one of them.
#include "knowledge.h"
#include "prefilter.h"
#include "private/lowering.h"
#include "testsupport.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace
{

using bt::prefilter::requirementOf;
using Lists = std::vector<std::vector<std::string>>;

bool holds(const bt::prefilter::Requirement& r, std::string_view text)
{
    for (const auto& any : r.all) {
        bool found = false;
        for (const auto& s : any)
            found = found || text.find(s) != std::string_view::npos;
        if (!found)
            return false;
    }
    return true;
}

TEST(Prefilter, ReadsLiteralsGroupsAlternationsAndRepetitions)
{
    EXPECT_EQ(requirementOf("user unknown").all, (Lists {{"user unknown"}}));
    // A gap ends a literal run: both sides are needed.
    EXPECT_EQ(requirementOf("mailbox\\S* (?:\\S+ ){0,3}full").all, (Lists {{"mailbox"}, {"full"}}));
    // Small alternations multiply out; a class of a few letters is their alternation.
    EXPECT_EQ(requirementOf("unzul(?:ä|a)ssig").all, (Lists {{"unzulassig", "unzulässig"}}));
    EXPECT_EQ(requirementOf("blo[cq]ked").all, (Lists {{"blocked", "bloqked"}}));
    // An optional part: with and without it.
    EXPECT_EQ(requirementOf("e-?mail").all, (Lists {{"e-mail", "email"}}));
    // One copy at least of a "+".
    EXPECT_EQ(requirementOf("(?:spam)+ found").all, (Lists {{"spam"}, {" found"}}));
    // Escapes: punctuation and \x stand for themselves, \b for nothing.
    EXPECT_EQ(requirementOf("\\bsmtp\\.example\\b").all, (Lists {{"smtp.example"}}));
    EXPECT_EQ(requirementOf("caf\\x{e9}").all, (Lists {{"café"}}));
    // Too short, or nothing needed: no requirement.
    EXPECT_TRUE(requirementOf("ab").empty());
    EXPECT_EQ(requirementOf("(?:spam|x) filter").all, (Lists {{"spam filter", "x filter"}}));
    EXPECT_TRUE(requirementOf("(?:abc)?\\S+").empty());
    EXPECT_TRUE(requirementOf("[^ ]+ rejected|\\d+").empty());
    // Syntax not followed: nothing known at all, never a wrong requirement.
    EXPECT_TRUE(requirementOf("(?i)Blocked").empty());
    EXPECT_TRUE(requirementOf("\\pL+ blocked").empty());
    EXPECT_TRUE(requirementOf("\\Qa.b\\E blocked").empty());
    EXPECT_TRUE(requirementOf("blocked)").empty());
}

TEST(Prefilter, AnAlternationOfRequirementsNeedsOneOfEachBranchsLists)
{
    // "(konto and gesperrt) or (postfach voll)": konto or postfach voll, and gesperrt or
    // postfach voll.
    EXPECT_EQ(requirementOf("(?:konto\\S* gesperrt|postfach voll)").all,
              (Lists {{"konto", "postfach voll"}, {" gesperrt", "postfach voll"}}));
    // Crossing goes up to 16 lists; beyond, one list crossed with each further branch's most
    // selective one.
    const auto r = requirementOf("(?:aaa\\S*bbb\\S*ccc\\S*ddd|eee\\S*fff\\S*ggg\\S*hhh)");
    EXPECT_EQ(r.all.size(), 16u);
    const auto wide = requirementOf("(?:aaa\\S*bbb|ccc\\S*ddd|eee\\S*fff|ggg\\S*hhh|iii\\S*jjj)");
    ASSERT_EQ(wide.all.size(), 1u);
    EXPECT_EQ(wide.all.front().size(), 5u);
}

/// Every phrase of every lexicon and rule, lowered as the classifier lowers it, against every
/// example and labelled reply lowered the same way: wherever the phrase matches, its requirement
/// holds. A requirement that failed once would leave a language's phrases unread for a reply
/// they match.
TEST(Prefilter, EveryShippedPatternsRequirementHoldsWhereverItMatches)
{
    const auto kb = bt::KnowledgeBase::loadDefault();
    std::vector<std::string> texts;
    for (const auto& rule : kb->rules())
        texts.insert(texts.end(), rule.examples.begin(), rule.examples.end());
    for (const auto& file : {std::filesystem::path(BT_SHARED_DIR) / "fixtures" / "replies.tsv",
                             std::filesystem::path(BT_TEST_DATA) / "replies" / "dev.tsv"}) {
        const auto rows = testsupport::tsvRows(file);
        ASSERT_FALSE(rows.empty()) << file;
        const auto col = std::find(rows[0].begin(), rows[0].end(), "reply_text") - rows[0].begin();
        for (std::size_t i = 1; i < rows.size(); ++i)
            if (static_cast<std::size_t>(col) < rows[i].size())
                texts.push_back(rows[i][static_cast<std::size_t>(col)]);
    }
    std::vector<std::string> lowered;
    for (const auto& t : texts) {
        std::string l;
        bt::detail::appendLowered(l, t);
        lowered.push_back(std::move(l));
        // Capitals too: the requirement is read on the lowered text, whatever the case.
        std::string upper;
        for (char c : t)
            upper += c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
        std::string lu;
        bt::detail::appendLowered(lu, upper);
        lowered.push_back(std::move(lu));
    }
    RE2::Options o;
    o.set_case_sensitive(true);
    o.set_log_errors(false);
    std::size_t patterns = 0, withRequirement = 0, matches = 0;
    std::map<std::string, std::pair<int, int>> perLanguage; // language → patterns, with a requirement
    for (const auto& rule : kb->rules()) {
        for (const auto& p : rule.patterns) {
            if (!bt::detail::lowerable(p))
                continue;
            const auto lp = bt::detail::loweredPattern(p);
            const auto r = requirementOf(lp);
            ++patterns;
            withRequirement += !r.empty();
            if (rule.id.rfind("lex.", 0) == 0) {
                const auto language = rule.id.substr(4, 2);
                auto& pl = perLanguage[language];
                ++pl.first;
                pl.second += !r.empty();
                // Another language's phrase that needs nothing known would have its whole set
                // compiled and read for every reply that reaches it.
                EXPECT_TRUE(language == "en" || !r.empty())
                    << rule.id << ": \"" << p << "\" holds no literal of three bytes or more";
            }
            if (r.empty())
                continue;
            const RE2 re(lp, o);
            ASSERT_TRUE(re.ok()) << rule.id << ": " << p;
            for (const auto& l : lowered) {
                if (!RE2::PartialMatch(l, re))
                    continue;
                ++matches;
                EXPECT_TRUE(holds(r, l)) << rule.id << ": " << lp << " matches \"" << l << "\"";
            }
        }
    }
    std::cout << patterns << " patterns, " << withRequirement << " with a requirement, " << matches
              << " matches checked\n";
    for (const auto& [language, counts] : perLanguage)
        std::cout << "  " << language << ": " << counts.second << " of " << counts.first << "\n";
    EXPECT_GT(matches, 10000u);
    // Most phrases need something: else no language could be left uncompiled.
    EXPECT_GT(withRequirement * 10, patterns * 8);
}

} // namespace
