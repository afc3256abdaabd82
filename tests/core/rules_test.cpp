// SPDX-License-Identifier: MIT
// Replays every example of every shipped rule: the knowledge base proves itself.
#include "classifier.h"
#include "knowledge.h"
#include "replyparser.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace
{

std::shared_ptr<bt::KnowledgeBase> kb()
{
    static auto k = bt::KnowledgeBase::loadDefault();
    return k;
}

} // namespace

TEST(Rules, EveryRuleIsComplete)
{
    ASSERT_GE(kb()->rules().size(), 100u) << "the shipped knowledge base looks truncated";
    std::set<std::string> ids;
    for (const auto& r : kb()->rules()) {
        EXPECT_TRUE(ids.insert(r.id).second) << "duplicate id " << r.id;
        EXPECT_FALSE(r.examples.empty()) << r.id << " (" << r.origin << ") has no example";
        // Lexicon entries (resources/lexicon) name a cause; what it means and what to do is
        // their reason's text in reasons.json, which must then exist.
        const auto* info = kb()->reasonInfo(r.reason);
        EXPECT_TRUE(!r.explanation.empty() || (info && !info->explanation.empty())) << r.id << " has no explanation";
        EXPECT_TRUE(!r.steps.empty() || (info && !info->steps.empty())) << r.id << " has no steps";
    }
}

// The classifier parses the shipped lexicon of the other languages only when a reply first needs
// it (a user's file is parsed at load): an invalid pattern would silently leave those languages
// unread, so every shipped pattern, and each flagged as shipped, is checked here.
TEST(Rules, EveryShippedPatternIsValidAndMarkedShipped)
{
    RE2::Options o;
    o.set_case_sensitive(false);
    o.set_log_errors(false);
    std::size_t other = 0;
    for (const auto& r : kb()->rules()) {
        EXPECT_TRUE(r.shipped) << r.id;
        other += r.id.starts_with("lex.") && !r.id.starts_with("lex.en.");
        for (const auto& p : r.patterns) {
            const RE2 re(p, o);
            EXPECT_TRUE(re.ok()) << r.id << " (" << r.origin << "): " << p << ": " << re.error();
        }
    }
    EXPECT_GT(other, 100u) << "the other languages' lexicons look missing";
    // A file of the user's is not.
    bt::KnowledgeBase mine;
    mine.addRules(R"({"format": "bouncetriage-rules/1", "rules": [{"id": "lex.de.mine", "reason": "filtered",
                   "patterns": ["abgelehnt"]}]})",
                  "mine.json");
    ASSERT_EQ(mine.rules().size(), 1u);
    EXPECT_FALSE(mine.rules().front().shipped);
}

TEST(Rules, EveryExampleYieldsItsRulesReason)
{
    const bt::Classifier c(kb());
    std::size_t examples = 0;
    for (const auto& r : kb()->rules()) {
        for (const auto& ex : r.examples) {
            ++examples;
            const auto d = c.diagnoseText(ex);
            if (r.id.rfind("lex.", 0) == 0) {
                // The lexicons are read only where no curated rule is sure: their words must
                // match the example, and the verdict must be their reason either way.
                RE2::Options o;
                o.set_case_sensitive(false);
                const bool matches = std::any_of(r.patterns.begin(), r.patterns.end(), [&](const std::string& p) {
                    return RE2::PartialMatch(ex, RE2(p, o));
                });
                EXPECT_TRUE(matches) << r.id << " (" << r.origin << ") does not match its example: " << ex;
            } else {
                EXPECT_TRUE(std::find(d.ruleIds.begin(), d.ruleIds.end(), r.id) != d.ruleIds.end())
                    << r.id << " (" << r.origin << ") does not match its example: " << ex;
            }
            EXPECT_EQ(d.reason, r.reason) << r.id << " example gives " << d.reason << " via "
                                          << (d.ruleIds.empty() ? "the code" : d.ruleIds.front()) << ": " << ex;
        }
    }
    EXPECT_GE(examples, kb()->rules().size());
}

// A rule whose words bounce emails' conventions (Sisimai's) read otherwise states that reading:
// its examples give it in a bounce email's report, and the rule's own reason when pasted alone.
TEST(Rules, ABounceEmailReasonHoldsInBounceEmailsOnly)
{
    const bt::Classifier c(kb());
    std::size_t rules = 0;
    for (const auto& r : kb()->rules()) {
        if (r.bounceEmailReason.empty())
            continue;
        ++rules;
        EXPECT_NE(r.bounceEmailReason, r.reason) << r.id;
        for (const auto& ex : r.examples) {
            bt::Reply reply = bt::primaryReply(ex);
            reply.fromBounceEmail = true;
            const auto inEmail = c.diagnose(reply);
            EXPECT_EQ(inEmail.reason, r.bounceEmailReason) << r.id << " in a bounce email: " << ex;
            EXPECT_EQ(inEmail.confidence, "rule") << r.id;
            // The rule's words stay the evidence of the reading.
            EXPECT_TRUE(std::any_of(inEmail.evidence.begin(), inEmail.evidence.end(),
                                    [&](const bt::Evidence& e) { return e.rule == r.id; }))
                << r.id << ": " << ex;
            EXPECT_EQ(c.diagnoseText(ex).reason, r.reason) << r.id << " pasted: " << ex;
        }
    }
    EXPECT_GE(rules, 5u);
    bt::KnowledgeBase bad;
    try {
        bad.addRules(R"({"format": "bouncetriage-rules/1", "rules": [{"id": "x.email", "reason": "filtered",
                     "bounce_email_reason": "nosuchreason", "patterns": ["a"]}]})",
                     "mine.json");
        FAIL() << "unknown bounce_email_reason accepted";
    } catch (const bt::KnowledgeError& e) {
        EXPECT_NE(std::string(e.what()).find("x.email"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("bounce_email_reason"), std::string::npos) << e.what();
    }
}

TEST(Rules, TablesAreLoaded)
{
    EXPECT_GE(kb()->codes().size(), 60u);
    EXPECT_GE(kb()->blocklists().size(), 15u);
    EXPECT_GE(kb()->providers().size(), 20u);
    ASSERT_NE(kb()->codeInfo("5.7.26"), nullptr);
    EXPECT_FALSE(kb()->codeInfo("5.7.26")->meaning.empty());
    ASSERT_NE(kb()->codeInfo("5.7.612"), nullptr) << "Microsoft's 5.7.606..649 range";
    EXPECT_EQ(kb()->codeInfo("5.7.612")->reason, "blocked");
    for (const char* reason : {"userunknown", "blocked", "authfailure", "undefined", "mailboxfull"})
        EXPECT_NE(kb()->reasonInfo(reason), nullptr) << reason;
}

namespace
{

/// The causes every non-English lexicon must name: the ones a bounce in any language commonly
/// gives, so that a German or Japanese reply is not left to the English words and the model.
/// vocabulary.md's reasons minus the rare or wordless ones (delivered, feedback, onhold,
/// suppressed, undefined, notcompliantrfc, hasmoved, notaccept, systemfull, syntaxerror,
/// mailererror, filtered).
constexpr const char* kCoreCauses[] = {
    "userunknown",    "suspend",      "hostunknown",     "mailboxfull",   "mesgtoobig",  "exceedlimit",
    "authfailure",    "requireptr",   "blocked",         "badreputation", "norelaying",  "securityerror",
    "failedstarttls", "networkerror", "expired",         "speeding",      "toomanyconn", "spamdetected",
    "virusdetected",  "contenterror", "policyviolation", "rejected",      "systemerror", "vacation",
};

constexpr const char* kOtherLanguages[] = {"de", "fr", "es", "it", "pt", "nl", "pl", "ru", "zh", "ja", "ko"};

} // namespace

TEST(Lexicon, EveryLanguageNamesTheCoreCauses)
{
    for (const std::string lang : kOtherLanguages) {
        // Lexicon concepts become rules named "lex.<language>.<id>" (knowledge.cpp).
        const std::string prefix = "lex." + lang + ".";
        std::set<std::string> reasons;
        for (const auto& r : kb()->rules())
            if (r.id.rfind(prefix, 0) == 0)
                reasons.insert(r.reason);
        ASSERT_FALSE(reasons.empty()) << "resources/lexicon/" << lang << ".json is not loaded";
        for (const std::string reason : kCoreCauses)
            EXPECT_TRUE(reasons.count(reason))
                << "resources/lexicon/" << lang << ".json names no concept for " << reason;
    }
}

TEST(Notices, EveryExampleIsANoticeAndNoReplyIs)
{
    // resources/notices.json carries its own examples: gateways' banners, footers and
    // disclaimers that must be left out of a bounce's text, and replies (some with the same
    // words) that must not.
    std::ifstream in(std::filesystem::path(BT_RESOURCES_DIR) / "notices.json");
    ASSERT_TRUE(in) << "resources/notices.json";
    const auto doc = nlohmann::json::parse(in);
    ASSERT_GE(doc["examples"].size(), 5u);
    ASSERT_GE(doc["not_notices"].size(), 5u);
    for (const auto& e : doc["examples"])
        EXPECT_TRUE(kb()->isNotice(e.get<std::string>())) << e;
    for (const auto& e : doc["not_notices"])
        EXPECT_FALSE(kb()->isNotice(e.get<std::string>())) << e;
}

TEST(Notices, ABadNoticesDocumentIsNamed)
{
    bt::KnowledgeBase k;
    for (const char* doc : {R"({"format": "bouncetriage-rules/1"})",
                            R"({"format": "bouncetriage-notices/1", "phrases": [""], "failure_words": []})",
                            R"({"format": "bouncetriage-notices/1", "phrases": "virus", "failure_words": []})"}) {
        try {
            k.setNotices(doc, "my-notices.json");
            ADD_FAILURE() << "accepted: " << doc;
        } catch (const bt::KnowledgeError& e) {
            EXPECT_NE(std::string(e.what()).find("my-notices.json"), std::string::npos) << e.what();
        }
    }
}
