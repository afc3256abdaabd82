// SPDX-License-Identifier: MIT
// The statistical fallback: its features, its training (deterministic), its guesses and how the
// classifier uses it: where no rule speaks, and against a vague rule when it is all but certain.
#include "classifier.h"
#include "json.h"
#include "knowledge.h"
#include "replymodel.h"
#include "replyparser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace
{

std::set<std::string> names(std::string_view text, std::optional<int> basic = std::nullopt,
                            std::string_view enhanced = {})
{
    std::vector<bt::ModelFeature> fs;
    bt::modelFeatures(text, basic, enhanced, fs);
    std::set<std::string> out;
    for (const auto& f : fs)
        out.insert(f.name);
    return out;
}

std::vector<bt::ReplyModel::Example> toyExamples()
{
    // Invented words, so no shipped rule or model weight can explain what the tests see.
    return {
        {"frobnicated widgets overflow", std::nullopt, {}, "mailboxfull", 1.0},
        {"the widgets are frobnicated again", std::nullopt, {}, "mailboxfull", 1.0},
        {"frobnicated widgets everywhere", std::nullopt, {}, "mailboxfull", 1.0},
        {"quuxified gadgets refused", std::nullopt, {}, "blocked", 1.0},
        {"your gadgets were quuxified", std::nullopt, {}, "blocked", 1.0},
        {"quuxified gadgets again", std::nullopt, {}, "blocked", 1.0},
        {"zorbled sprockets detected", std::nullopt, {}, "spamdetected", 1.0},
        {"sprockets are zorbled here", std::nullopt, {}, "spamdetected", 1.0},
    };
}

} // namespace

TEST(ReplyModel, FeaturesFoldCaseSkipAddressesAndNumbersAndPairCjk)
{
    const auto f = names("550 5.1.1 <Jdoe@Example.COM>: ПОЛЬЗОВАТЕЛЬ Unknown s3150 用户不存在", 550, "5.1.1");
    EXPECT_TRUE(f.count("w:пользователь")) << "Cyrillic capitals fold";
    EXPECT_TRUE(f.count("w:unknown"));
    EXPECT_TRUE(f.count("b:пользователь unknown"));
    EXPECT_FALSE(f.count("w:jdoe")) << "an address names the case, not the cause";
    EXPECT_FALSE(f.count("w:example"));
    EXPECT_FALSE(f.count("w:s3150")) << "tokens with digits are ids";
    for (const char* pair : {"c:用户", "c:户不", "c:不存", "c:存在"})
        EXPECT_TRUE(f.count(pair)) << pair;
    for (const char* code : {"#b550", "#k5", "#e5.1.1", "#x.1.1", "#s1"})
        EXPECT_TRUE(f.count(code)) << code;
    EXPECT_TRUE(names("no code here").count("#nocode"));
}

TEST(ReplyModel, FeatureSpansPointAtTheWords)
{
    const std::string text = "452 Mailbox FULL, sorry";
    std::vector<bt::ModelFeature> fs;
    bt::modelFeatures(text, 452, "", fs);
    const auto it = std::find_if(fs.begin(), fs.end(), [](const auto& f) { return f.name == "b:mailbox full"; });
    ASSERT_NE(it, fs.end());
    EXPECT_EQ(text.substr(it->start, it->end - it->start), "Mailbox FULL");
    // Invalid UTF-8 is walked to its end without reading past it.
    EXPECT_NO_THROW(names(std::string("\xE3\x81", 2) + "\xFF abc \xF0"));
}

TEST(ReplyModel, TrainingIsDeterministicAndLearnsTheWords)
{
    const auto a = bt::ReplyModel::train(toyExamples(), {});
    const auto b = bt::ReplyModel::train(toyExamples(), {});
    EXPECT_EQ(a, b) << "same examples, same model document";
    const auto model = bt::ReplyModel::fromJson(a, "toy");
    const auto g = model->guess("550 our widgets got frobnicated", 550, "");
    ASSERT_TRUE(g.has_value());
    EXPECT_EQ(g->reason, "mailboxfull");
    EXPECT_GT(g->probability, model->threshold());
    ASSERT_FALSE(g->strongest.empty());
    const std::string text = "550 our widgets got frobnicated";
    const auto& top = g->strongest.front();
    const auto word = text.substr(top.start, top.end - top.start);
    EXPECT_TRUE(word == "widgets" || word == "frobnicated") << word;
    const auto h = model->guess("421 quuxified gadgets", 421, "");
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->reason, "blocked");
}

TEST(ReplyModel, BaggedTrainingAveragesModelsThatEachSawPartOfTheData)
{
    bt::ReplyModel::TrainOptions one;
    one.bags = 1;
    bt::ReplyModel::TrainOptions four;
    four.bags = 4;
    const auto single = bt::ReplyModel::train(toyExamples(), one);
    const auto bagged = bt::ReplyModel::train(toyExamples(), four);
    EXPECT_EQ(bagged, bt::ReplyModel::train(toyExamples(), four)) << "deterministic with bags too";
    EXPECT_NE(single, bagged) << "the bags' average is not the single run";
    EXPECT_NE(bagged.find("\"bags\":4"), std::string::npos) << "the document says how it was made";
    const auto model = bt::ReplyModel::fromJson(bagged, "toy");
    const auto g = model->guess("550 your gadgets quuxified", 550, "");
    ASSERT_TRUE(g.has_value());
    EXPECT_EQ(g->reason, "blocked");
}

TEST(ReplyModel, OneKnownWordOrCodesAloneGiveNoGuess)
{
    const auto model = bt::ReplyModel::fromJson(bt::ReplyModel::train(toyExamples(), {}), "toy");
    EXPECT_FALSE(model->guess("550 frobnicated", 550, "5.0.0").has_value());
    EXPECT_FALSE(model->guess("550", 550, "5.0.0").has_value());
    EXPECT_FALSE(model->guess("entirely different words", std::nullopt, "").has_value());
}

TEST(ReplyModel, WordPrefixesCarryWhatWasLearntToOtherFormsOfAWord)
{
    const auto f = names("Mailbox unavailable: rejected by policy");
    EXPECT_TRUE(f.count("p:reje"));
    EXPECT_TRUE(f.count("p:mail"));
    EXPECT_FALSE(f.count("p:by")) << "a word no longer than the prefix has none";
    EXPECT_TRUE(names("ПОЛЬЗОВАТЕЛЬ").count("p:поль")) << "four letters, not four bytes";

    const auto model = bt::ReplyModel::fromJson(bt::ReplyModel::train(toyExamples(), {}), "toy");
    // Neither word was in the training data; their prefixes were.
    const auto g = model->guess("zorbling sprocketry", std::nullopt, "");
    ASSERT_TRUE(g.has_value());
    EXPECT_EQ(g->reason, "spamdetected");
    // A known word and its own prefix are one word for the "two known words" rule.
    EXPECT_FALSE(model->guess("quuxified", std::nullopt, "").has_value());
}

TEST(ReplyModel, MalformedDocumentsNameTheirOrigin)
{
    for (const char* doc :
         {"{", R"({"format": "other"})",
          R"({"format": "bouncetriage-model/1", "classes": ["a"], "bias": [], "weights": {}})",
          R"({"format": "bouncetriage-model/1", "classes": ["a"], "bias": [0], "weights": {"w:x": [[3, 1.0]]}})",
          R"({"format": "bouncetriage-model/1", "classes": ["a"], "bias": [0], "weights": {"w:x": [[-1, 1.0]]}})",
          // A feature given twice would silently lose one of its weight lists.
          R"({"format": "bouncetriage-model/1", "classes": ["a"], "bias": [0],
              "weights": {"w:x": [[0, 1.0]], "w:y": [[0, 1.0]], "w:x": [[0, 2.0]]}})"}) {
        try {
            bt::ReplyModel::fromJson(doc, "my-model.json");
            ADD_FAILURE() << "accepted: " << doc;
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("my-model.json"), std::string::npos) << e.what();
        }
    }
}

TEST(ReplyModel, ClassifierAnswersWithTheModelWhereRulesAreSilent)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    kb->setModel(bt::ReplyModel::train(toyExamples(), {}), "toy");
    const bt::Classifier c(kb);

    const auto byModel = c.diagnoseText("450 your widgets frobnicated");
    EXPECT_EQ(byModel.reason, "mailboxfull");
    EXPECT_EQ(byModel.family, "capacity");
    EXPECT_EQ(byModel.confidence, "model");
    ASSERT_FALSE(byModel.evidence.empty());
    EXPECT_EQ(byModel.evidence.front().rule.rfind("model:", 0), 0u) << byModel.evidence.front().rule;

    // A rule speaks, and surely (its words are the cause after "Recipient address rejected:",
    // and 5.1.1 agrees): the model does not overrule it, whatever it would say.
    const auto byRule = c.diagnoseText("550 5.1.1 <a@example.com>: Recipient address rejected: User unknown, "
                                       "frobnicated widgets");
    EXPECT_EQ(byRule.reason, "userunknown");
    EXPECT_EQ(byRule.confidence, "rule");

    // A heavy code decides before the model; nothing at all leaves the answer unknown.
    const auto byCode = c.diagnoseText("552 5.2.2 xyzzy plugh");
    EXPECT_EQ(byCode.reason, "mailboxfull");
    EXPECT_EQ(byCode.confidence, "code");
    const auto none = c.diagnoseText("550 xyzzy plugh");
    EXPECT_EQ(none.family, "unknown");
    EXPECT_EQ(none.confidence, "none");
}

TEST(ReplyModel, AConfidentModelOverrulesAVagueRuleOrACodeButNotASureRule)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    kb->setModel(bt::ReplyModel::train(toyExamples(), {}), "toy");
    const bt::Classifier c(kb);
    const auto& rules = kb->rules();
    auto priorityOf = [&](const std::string& id) {
        const auto it = std::find_if(rules.begin(), rules.end(), [&](const bt::Rule& r) { return r.id == id; });
        return it == rules.end() ? -1 : it->priority;
    };
    auto sure = [&](std::string_view text) {
        const auto g = kb->model()->guess(text, std::nullopt, {});
        return g ? g->probability : 0.0;
    };

    // Alone, a vague lexicon phrase decides ("mailbox temporarily unavailable": a busy system).
    const std::string vague = "450 Mailbox temporarily unavailable";
    const auto alone = c.diagnoseText(vague);
    ASSERT_EQ(alone.confidence, "rule");
    ASSERT_FALSE(alone.ruleIds.empty());
    ASSERT_GE(priorityOf(alone.ruleIds.front()), 0);
    ASSERT_LT(priorityOf(alone.ruleIds.front()), 70) << alone.ruleIds.front();
    // Words the model is all but certain of, of another family, overrule it: the model's
    // reason, its words as evidence, and the diagnosis says so.
    const std::string overruled = vague + ": sprockets are zorbled, zorbled sprockets detected";
    ASSERT_GE(sure(overruled), 0.8);
    const auto byModel = c.diagnoseText(overruled);
    EXPECT_EQ(byModel.reason, "spamdetected");
    EXPECT_EQ(byModel.confidence, "model");
    EXPECT_EQ(byModel.overruled, alone.reason); // both readings are shown
    EXPECT_NE(bt::toJson(byModel).find("\"overruled\":\"" + alone.reason + "\""), std::string::npos);
    EXPECT_NE(bt::toCard(byModel).find("overruling the rules' " + alone.reason), std::string::npos);
    EXPECT_TRUE(alone.overruled.empty());
    EXPECT_TRUE(std::any_of(byModel.evidence.begin(), byModel.evidence.end(),
                            [](const bt::Evidence& e) { return e.rule.rfind("model:", 0) == 0; }));
    // A code alone, the same.
    const auto byCode = c.diagnoseText("552 5.2.2 sprockets are zorbled, zorbled sprockets detected");
    EXPECT_EQ(byCode.reason, "spamdetected");
    EXPECT_EQ(byCode.confidence, "model");
    EXPECT_EQ(c.diagnoseText("552 5.2.2 xyzzy plugh").confidence, "code");

    // A rule stands, however sure the model is, when it is sure itself (a clear phrase, priority
    // 70 and up), when its words are the cause after "<party> rejected:", or when the reply's
    // code agrees with it.
    const std::string toy = ", sprockets are zorbled, zorbled sprockets detected";
    const std::string clear = "550 Virus Detected; Content Rejected";
    ASSERT_EQ(c.diagnoseText(clear).ruleIds.front(), "generic.virus");
    ASSERT_GE(priorityOf("generic.virus"), 70);
    const std::string cause = "550 <a@example.com>: Recipient address rejected: User unknown";
    ASSERT_EQ(c.diagnoseText(cause).ruleIds.front(), "generic.userunknown");
    ASSERT_LT(priorityOf("generic.userunknown"), 70);
    for (const auto& text : {clear, cause}) {
        ASSERT_GE(sure(text + toy), 0.8) << text;
        const auto stands = c.diagnoseText(text + toy);
        EXPECT_EQ(stands.reason, c.diagnoseText(text).reason) << text;
        EXPECT_EQ(stands.confidence, "rule") << text;
    }
    // "Mailbox temporarily unavailable" (systemerror) with 4.3.5, a system's own trouble.
    EXPECT_EQ(c.diagnoseText("450 4.3.5 Mailbox temporarily unavailable" + toy).confidence, "rule");
    // The reply of a bounce email: its rules stand (their reasons follow the corpus's conventions).
    bt::Reply inBounce = bt::primaryReply(overruled);
    inBounce.fromBounceEmail = true;
    EXPECT_EQ(c.diagnose(inBounce).reason, alone.reason);
    EXPECT_EQ(c.diagnose(inBounce).confidence, "rule");
}

TEST(ReplyModel, TheShippedModelIsLoaded)
{
    const auto kb = bt::KnowledgeBase::loadDefault();
    ASSERT_NE(kb->model(), nullptr) << "resources/model/replies-model.json is embedded";
    EXPECT_GT(kb->model()->featureCount(), 1000u);
    EXPECT_GT(kb->model()->threshold(), 0.0);
}
