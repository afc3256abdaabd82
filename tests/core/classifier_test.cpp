// SPDX-License-Identifier: MIT
#include "classifier.h"
#include "json.h"
#include "knowledge.h"
#include "text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

namespace
{

const bt::Classifier& shipped()
{
    static const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    return c;
}

bool hasEvidence(const bt::Diagnosis& d, std::string_view words)
{
    return std::any_of(d.evidence.begin(), d.evidence.end(), [&](const bt::Evidence& e) {
        return d.replyText.substr(e.start, e.end - e.start).find(words) != std::string::npos;
    });
}

} // namespace

TEST(Classifier, BareBasicCodeProvesNothing)
{
    const auto d = shipped().diagnoseText("550");
    EXPECT_EQ(d.reason, "undefined");
    EXPECT_EQ(d.family, "unknown");
    EXPECT_EQ(d.spamRelated, "unknown");
    EXPECT_EQ(d.action, "read_text");
    EXPECT_TRUE(d.evidence.empty());
    EXPECT_FALSE(d.steps.empty()) << "even an unknown verdict says what to do next";
}

TEST(Classifier, ARefusalInWordsThatNameNoCauseIsUnknown)
{
    // vocabulary.md reserves unknown for replies that say nothing; the model leans on "refused"
    // or "delivered" because other replies with those words named a cause.
    for (const char* bare : {"554 Message refused", "550 Delivery error", "554 5.0.0 Message could not be delivered",
                             "554 Rejected by server", "554 Transaction failed", "550 Nachricht abgelehnt",
                             "550 Message refusé <bob@example.com> [192.0.2.1]", "550 Сообщение отклонено"}) {
        const auto d = shipped().diagnoseText(bare);
        EXPECT_EQ(d.family, "unknown") << bare;
        EXPECT_EQ(d.confidence, "none") << bare;
    }
    // A specific code still decides; a cause word, a page to read or a rule still speak.
    EXPECT_EQ(shipped().diagnoseText("550 5.1.1 Message refused").reason, "userunknown");
    for (const char* said :
         {"554 Message refused: mailbox full", "554 Message refused, see https://help.example.com/spam",
          "550 Message refused: Access denied", "550 Message/partial refused"})
        EXPECT_NE(shipped().diagnoseText(said).family, "unknown") << said;
    // The words are data, each a single word.
    bt::KnowledgeBase kb;
    EXPECT_THROW(kb.addLexicon(R"({"format": "bouncetriage-lexicon/1", "language": "xx", "says_nothing": ["not this"],
                                   "concepts": []})",
                               "xx.json"),
                 bt::KnowledgeError);
}

// The English lexicon's patterns are matched as bytes (Latin-1, see PatternSet in classifier.cpp)
// for speed; a phrase in it with a letter beyond ASCII is matched with the curated rules instead,
// where case folding knows that letter ("Ä" for "ä"), as it would in any other set.
TEST(Classifier, AnEnglishLexiconPhraseBeyondAsciiStillFoldsCase)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    kb->addLexicon(R"({"format": "bouncetriage-lexicon/1", "language": "en", "concepts": [
                          {"id": "probe", "reason": "userunknown", "phrases": ["\\bempfängeradresse unbekannt\\b"],
                           "examples": ["550 Empfängeradresse unbekannt"]}]})",
                   "probe.json");
    const bt::Classifier c(kb);
    for (const char* text : {"550 Empfängeradresse unbekannt", "550 EMPFÄNGERADRESSE UNBEKANNT"}) {
        const auto ids = c.diagnoseText(text).ruleIds;
        EXPECT_NE(std::find(ids.begin(), ids.end(), "lex.en.probe"), ids.end()) << text;
    }
}

// The other languages' words are read by script (core/classifier.cpp, PatternSet): a
// Latin-script lexicon where the reply has a letter such as "ü" or "ł", one of those lexicons'
// marker words, or nothing the English words explain unless two English function words say it
// is vague English; a Cyrillic or CJK lexicon only where the reply holds its script. Probed
// with a made-up word in lexicons of each kind, so the shipped phrases cannot blur the answer.
TEST(Classifier, EachLanguagesWordsAreReadWhereTheReplyCanBeInThatLanguage)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    for (const char* language : {"de", "ru", "zh"})
        kb->addLexicon(std::string(R"({"format": "bouncetriage-lexicon/1", "language": ")") + language
                           + R"(", "concepts": [{"id": "probe", "reason": "mailboxfull", "priority": 64,
                                "phrases": ["\\bqqprobe\\b"], "examples": ["552 qqprobe"]}]})",
                       std::string(language) + ".json");
    const bt::Classifier c(kb);
    auto read = [&](std::string_view text, std::string_view rule) {
        const auto ids = c.diagnoseText(text).ruleIds;
        return std::find(ids.begin(), ids.end(), rule) != ids.end();
    };
    // Nothing else explains it: the Latin-script words are read, not the Cyrillic or CJK ones.
    EXPECT_TRUE(read("552 qqprobe", "lex.de.probe"));
    EXPECT_FALSE(read("552 qqprobe", "lex.ru.probe"));
    EXPECT_FALSE(read("552 qqprobe", "lex.zh.probe"));
    // Vague English (two function words) is not read with them; a German letter brings them back.
    EXPECT_FALSE(read("552 the qqprobe was not accepted for your message", "lex.de.probe"));
    EXPECT_TRUE(read("552 the qqprobe was not accepted for your message, Größe", "lex.de.probe"));
    // Each script's own letters bring its words.
    EXPECT_TRUE(read("552 qqprobe: ящик переполнен", "lex.ru.probe"));
    EXPECT_FALSE(read("552 qqprobe: ящик переполнен", "lex.zh.probe"));
    EXPECT_TRUE(read("552 qqprobe: 邮箱已满", "lex.zh.probe"));
    EXPECT_FALSE(read("552 qqprobe: 邮箱已满", "lex.ru.probe"));
    // A reply in another script that the English words leave weak is not read for accent-less
    // Latin-script words: they would be German or Polish written in Latin letters.
    EXPECT_FALSE(read("552 qqprobe: ящик переполнен", "lex.de.probe"));
    EXPECT_FALSE(read("552 qqprobe: 邮箱已满", "lex.de.probe"));
}

// The other languages' sets are compiled case-sensitive over lowered text (PatternSet in
// core/classifier.cpp: a third fewer instructions to compile): capitals still match, whether
// ASCII, Latin-1, Latin Extended-A or Cyrillic, in either of the two Latin-script sets.
TEST(Classifier, OtherLanguagesWordsMatchInCapitals)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    const std::pair<const char*, const char*> probes[]
        = {{"de", "qqprüfung"}, {"fr", "qqété"}, {"pl", "qqłódź"}, {"ro", "qqșță"}, {"ru", "qqящик"}};
    for (const auto& [language, phrase] : probes)
        kb->addLexicon(std::string(R"({"format": "bouncetriage-lexicon/1", "language": ")") + language
                           + R"(", "concepts": [{"id": "probe", "reason": "mailboxfull", "priority": 64,
                                "phrases": [")"
                           + phrase + R"("], "examples": ["552 )" + phrase + R"("]}]})",
                       std::string(language) + ".json");
    const bt::Classifier c(kb);
    const std::pair<const char*, const char*> capitals[]
        = {{"552 QQPRÜFUNG", "lex.de.probe"}, {"552 QqPrÜfung", "lex.de.probe"}, {"552 QQÉTÉ", "lex.fr.probe"},
           {"552 QQŁÓDŹ", "lex.pl.probe"},    {"552 QQȘȚĂ", "lex.ro.probe"},     {"552 QQЯЩИК", "lex.ru.probe"},
           {"552 qqЯщик", "lex.ru.probe"}};
    for (const auto& [text, rule] : capitals) {
        const auto ids = c.diagnoseText(text).ruleIds;
        EXPECT_NE(std::find(ids.begin(), ids.end(), rule), ids.end()) << text;
    }
}

TEST(Classifier, UserUnknownIsAnAddressToSuppress)
{
    const auto d = shipped().diagnoseText("550 5.1.1 <kijitora@example.jp>: Recipient address rejected: User unknown");
    EXPECT_EQ(d.reason, "userunknown");
    EXPECT_EQ(d.family, "address");
    EXPECT_EQ(d.spamRelated, "no");
    EXPECT_EQ(d.action, "suppress");
    EXPECT_TRUE(d.hardBounce);
    EXPECT_FALSE(d.evidence.empty());
}

TEST(Classifier, TheRefusedPartyDecidesWhoseAddressIsWrong)
{
    // The words name the party…
    EXPECT_EQ(shipped().diagnoseText("550 5.1.0 <a@example.org>: Sender address rejected: User unknown").reason,
              "rejected");
    EXPECT_EQ(shipped().diagnoseText("550 5.2.1 <b@example.net>: Recipient address rejected: Account closed").reason,
              "suspend");
    // …or, with no party word, the enhanced code does: X.1.7/X.1.8 are the sender's address and
    // domain, X.1.1–X.1.6 the recipient's.
    EXPECT_EQ(shipped().diagnoseText("553 5.1.7 invalid domain name").family, "policy");
    EXPECT_EQ(shipped().diagnoseText("553 5.1.7 invalid local part").reason, "rejected");
    EXPECT_EQ(shipped().diagnoseText("553 5.1.3 invalid local part").reason, "syntaxerror");
    // The sender's code with a malformed address is that address refused; with 501, or with a
    // command's argument named, it is the command's syntax.
    EXPECT_EQ(shipped().diagnoseText("553 5.1.7 sender mailbox syntax is not allowed here").reason, "rejected");
    EXPECT_EQ(shipped().diagnoseText("501 5.1.7 malformed address in MAIL command").reason, "syntaxerror");
    EXPECT_EQ(shipped().diagnoseText("501 5.5.4 Unknown argument to MAIL FROM: parameter BODY=9BIT").family, "system");
    // Words that can only name the sender's domain say whose it is, whatever the code.
    EXPECT_EQ(shipped().diagnoseText("550 5.1.2 The MAIL FROM domain example.invalid does not exist").reason,
              "rejected");
    // The model does not second-guess the refused party: "domain" and "MX" are the recipient's
    // domain in most replies it learnt from, the sender's here.
    const auto noMx = shipped().diagnoseText("550 The domain of your sender address publishes no MX records");
    EXPECT_EQ(noMx.reason, "rejected");
    EXPECT_NE(noMx.confidence, "model");
    // A failed lookup of the sender's domain stays a DNS failure.
    EXPECT_EQ(
        shipped().diagnoseText("450 4.1.8 Unable to resolve the domain name of the sender: DNS lookup failed").reason,
        "networkerror");
    // A person's label before the reply ("Bounce reason:") is not a bounce refused: the refused
    // party is still the recipient.
    // (Compared by the rules that read it: whether the model's second guess overrules them can
    // differ with the extra words, and is not what this checks.)
    const auto labelled
        = shipped().diagnoseText("Bounce reason: Recipient address rejected: Access denied. Please advise.");
    EXPECT_NE(labelled.reason, "rejected");
    EXPECT_EQ(labelled.ruleIds, shipped().diagnoseText("Recipient address rejected: Access denied").ruleIds);
    EXPECT_EQ(shipped().diagnoseText("550 Bounces are rejected here").reason, "rejected");
}

TEST(Classifier, AnInvalidHeloArgumentIsSyntaxWhateverRefusedIt)
{
    // The contract owners read "HELO/EHLO argument is invalid" as SMTP syntax: a refusal whose
    // cause is a malformed HELO name is syntaxerror even after "Helo command rejected:", which
    // alone reads as a refused host.
    EXPECT_EQ(shipped().diagnoseText("Helo command rejected: Invalid name").reason, "syntaxerror");
    EXPECT_EQ(shipped().diagnoseText("550 bogus helo").reason, "syntaxerror");
    EXPECT_EQ(shipped().diagnoseText("550 Please use a valid hostname in your HELO").reason, "syntaxerror");
    // A host name that happens to start with a cause word is not the cause…
    EXPECT_NE(
        shipped().diagnoseText("554 5.7.1 <bad.example.net>: Helo command rejected: match bad.example.net").reason,
        "syntaxerror");
    // …a named forgery or missing DNS is a cause of its own.
    EXPECT_EQ(shipped().diagnoseText("550 REJECTED - Bad HELO - Host impersonating [mx.example.com]").family,
              "reputation");
    EXPECT_EQ(shipped().diagnoseText("450 4.7.1 <mail.example.invalid>: Helo command rejected: Host not found").reason,
              "requireptr");
}

TEST(Classifier, DmarcRejectionIsAuth)
{
    const auto d = shipped().diagnoseText(
        "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy");
    EXPECT_EQ(d.family, "auth");
    EXPECT_EQ(d.spamRelated, "often");
    EXPECT_EQ(d.action, "fix_auth");
    EXPECT_FALSE(d.hardBounce);
    EXPECT_TRUE(hasEvidence(d, "DMARC") || hasEvidence(d, "Unauthenticated") || hasEvidence(d, "5.7.26"));
}

TEST(Classifier, SpamhausListingIsReputationWithBlocklist)
{
    const auto d = shipped().diagnoseText("554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using "
                                          "zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.9");
    EXPECT_EQ(d.family, "reputation");
    EXPECT_EQ(d.spamRelated, "yes");
    EXPECT_EQ(d.action, "investigate_reputation");
    ASSERT_FALSE(d.blocklists.empty());
    EXPECT_NE(d.blocklists.front().name.find("Spamhaus"), std::string::npos);
    EXPECT_FALSE(d.blocklists.front().delistUrl.empty());
    EXPECT_TRUE(hasEvidence(d, "zen.spamhaus.org"));
    // Looking the listing up is a step of its own.
    EXPECT_TRUE(std::any_of(d.steps.begin(), d.steps.end(),
                            [](const std::string& s) { return s.find("spamhaus") != std::string::npos; }));
}

TEST(Classifier, EnhancedCodeAloneDecidesWhenSpecific)
{
    const auto d = shipped().diagnoseText("552 5.2.2 <x@example.org>... Sorry");
    EXPECT_EQ(d.reason, "mailboxfull");
    EXPECT_EQ(d.action, "retry_later");
    EXPECT_NE(d.codeMeaning.find("5.2.2"), std::string::npos);
}

TEST(Classifier, TemporaryFailureIsNeverAHardBounce)
{
    const auto d = shipped().diagnoseText("450 4.1.1 <x@example.org>: Recipient address rejected: User unknown");
    EXPECT_FALSE(d.permanent);
    EXPECT_FALSE(d.hardBounce);
}

TEST(Classifier, ProviderFromTextAndHost)
{
    auto d = shipped().diagnoseText("550 5.2.1 The email account that you tried to reach is disabled. "
                                    "g0000000000ggg.00 - gsmtp");
    EXPECT_EQ(d.provider, "Gmail");
    d = shipped().diagnoseText("host mx0.pphosted.com[192.0.2.3] said: 550 5.1.1 User unknown (in reply to RCPT TO "
                               "command)");
    EXPECT_EQ(d.provider, "Proofpoint");
}

TEST(Classifier, StepsAreOrderedAndNonEmptyForEveryFamilyWord)
{
    for (const char* t : {"550 5.1.1 user unknown", "554 5.7.1 Relay access denied", "421 4.7.0 Too many connections",
                          "552 5.3.4 Message size exceeds fixed limit"}) {
        const auto d = shipped().diagnoseText(t);
        EXPECT_NE(d.family, "unknown") << t;
        EXPECT_FALSE(d.steps.empty()) << t;
        EXPECT_FALSE(d.explanation.empty()) << t;
    }
}

TEST(Knowledge, LocalRulesOverrideShippedRulesById)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    const auto before = kb->rules().size();
    kb->addRules(R"({"format": "bouncetriage-rules/1", "rules": [
        {"id": "local.acme-gateway", "reason": "policyviolation", "patterns": ["ACME-GW-REFUSED"],
         "priority": 95, "explanation": "Our partner's gateway refuses bulk mail.",
         "steps": ["Send through the partner relay."], "examples": ["550 ACME-GW-REFUSED"]}]})",
                 "local.json");
    EXPECT_EQ(kb->rules().size(), before + 1);
    const bt::Classifier c(kb);
    const auto d = c.diagnoseText("550 5.1.1 ACME-GW-REFUSED");
    EXPECT_EQ(d.reason, "policyviolation");
    ASSERT_FALSE(d.ruleIds.empty());
    EXPECT_EQ(d.ruleIds.front(), "local.acme-gateway");

    // Same id again: replaced, not added.
    kb->addRules(R"({"format": "bouncetriage-rules/1", "rules": [
        {"id": "local.acme-gateway", "reason": "filtered", "patterns": ["ACME-GW-REFUSED"], "priority": 95,
         "explanation": "x", "steps": ["y"], "examples": ["550 ACME-GW-REFUSED"]}]})",
                 "local2.json");
    EXPECT_EQ(kb->rules().size(), before + 1);
    EXPECT_EQ(bt::Classifier(kb).diagnoseText("550 ACME-GW-REFUSED").reason, "filtered");
}

// The sets are matched case-sensitive over the reply lowered, their patterns lowered too
// (PatternSet in core/classifier.cpp); a rules file's pattern that names case keeps its meaning,
// matched over the reply as it is: a capital class would find no capital in the lowered reply,
// and a case-sensitive group would lose its capitals.
TEST(Knowledge, ARulesFilePatternThatNamesCaseKeepsItsMeaning)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    kb->addRules(R"({"format": "bouncetriage-rules/1", "rules": [
        {"id": "local.capitals", "reason": "policyviolation", "patterns": ["\\bqq\\p{Lu}+zz\\b"], "priority": 95,
         "explanation": "x", "steps": ["y"], "examples": ["550 qqABCzz"]},
        {"id": "local.exact", "reason": "filtered", "patterns": ["\\b(?-i:QQEXACT)\\b"], "priority": 95,
         "explanation": "x", "steps": ["y"], "examples": ["550 QQEXACT"]}]})",
                 "local.json");
    const bt::Classifier c(kb);
    EXPECT_EQ(c.diagnoseText("550 QQABCZZ").reason, "policyviolation");
    EXPECT_EQ(c.diagnoseText("550 QQEXACT").reason, "filtered");
    const auto ids = c.diagnoseText("550 qqexact").ruleIds;
    EXPECT_EQ(std::find(ids.begin(), ids.end(), "local.exact"), ids.end());
}

TEST(Knowledge, UnlessCodesTakeARuleBack)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    kb->addRules(R"({"format": "bouncetriage-rules/1", "rules": [
        {"id": "local.gw", "reason": "policyviolation", "patterns": ["ACME-GW"], "priority": 95,
         "unless_codes": ["X.7.26", "45x"], "explanation": "x", "steps": ["y"], "examples": ["550 ACME-GW"]}]})",
                 "local.json");
    const bt::Classifier c(kb);
    EXPECT_EQ(c.diagnoseText("550 5.7.1 ACME-GW").reason, "policyviolation");
    // The more specific code names another subject: the rule stands back and that code decides.
    const auto dmarc = c.diagnoseText("550 5.7.26 ACME-GW");
    EXPECT_EQ(dmarc.family, "auth");
    EXPECT_TRUE(std::find(dmarc.ruleIds.begin(), dmarc.ruleIds.end(), "local.gw") == dmarc.ruleIds.end());
    EXPECT_NE(c.diagnoseText("451 ACME-GW").reason, "policyviolation");
}

TEST(Classifier, AReadingNearlyAsStrongAsTheVerdictIsShownBesideIt)
{
    // "Too many recipients" (a count limit of the recipient) and "Too many messages" (a sending
    // rate) are both there, with nearly the same weight: the verdict is one, the other is shown.
    const auto both = shipped().diagnoseText("452 4.5.3 Too many recipients: Too many messages sent");
    EXPECT_EQ(both.family, "capacity");
    EXPECT_EQ(bt::alternativeReading(both), "speeding");
    EXPECT_EQ(both.replyText.substr(both.alternativeEvidence.start,
                                    both.alternativeEvidence.end - both.alternativeEvidence.start),
              "Too many messages");
    const auto json = bt::toJson(both);
    EXPECT_NE(json.find(R"("alternative":{"end":48,"family":"rate_limit","reason":"speeding","rule":")"),
              std::string::npos)
        << json;
    EXPECT_NE(bt::toCard(both).find("Also possible: rate_limit / speeding because of \"Too many messages\""),
              std::string::npos)
        << bt::toCard(both);
    // One clear reading has no rival; nor has a verdict of the code alone or of the model.
    for (const char* clear : {"550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown",
                              "552 5.2.2 Mailbox full", "550 5.7.1"}) {
        const auto d = shipped().diagnoseText(clear);
        EXPECT_TRUE(bt::alternativeReading(d).empty()) << clear << " -> " << d.alternative;
        EXPECT_NE(bt::toJson(d).find(R"("alternative":null)"), std::string::npos) << clear;
        EXPECT_EQ(bt::toCard(d).find("Also possible"), std::string::npos) << clear;
    }
    // Nor is an address-like rule the refused party already read as the sender's.
    const auto sender = shipped().diagnoseText(
        "550 5.1.0 <a@example.com>: Sender address rejected: User unknown in local recipient table");
    EXPECT_EQ(sender.reason, "rejected");
    EXPECT_TRUE(bt::alternativeReading(sender).empty()) << sender.alternative;
    // A rival of the verdict's own family is no other reading.
    bt::Diagnosis same = both;
    same.alternative = "exceedlimit";
    EXPECT_TRUE(bt::alternativeReading(same).empty());
}

TEST(Knowledge, CodeConstraintsReadEveryFormTheRulesUse)
{
    // The forms resources/rules/README.md documents, read once into a CodePattern.
    const auto fits = [](std::string_view pattern, std::optional<int> basic, std::string_view enhanced) {
        const bool compiled = bt::CodePattern(pattern).matches(basic, enhanced);
        EXPECT_EQ(compiled, bt::matchesCodePattern(pattern, basic, enhanced)) << pattern << " " << enhanced;
        return compiled;
    };
    EXPECT_TRUE(fits("550", 550, ""));
    EXPECT_FALSE(fits("550", 551, "5.5.0"));
    EXPECT_TRUE(fits("5xx", 554, ""));
    EXPECT_TRUE(fits("45X", 452, ""));
    EXPECT_FALSE(fits("45x", 552, ""));
    EXPECT_FALSE(fits("5xx", std::nullopt, "5.1.1"));
    EXPECT_TRUE(fits("5.7.26", std::nullopt, "5.7.26"));
    EXPECT_FALSE(fits("5.7.26", 550, "5.7.2"));
    EXPECT_FALSE(fits("5.7.26", 550, "4.7.26"));
    EXPECT_TRUE(fits("X.1.1", 450, "4.1.1"));
    EXPECT_TRUE(fits("x.1.1", 550, "5.1.1"));
    EXPECT_FALSE(fits("X.1.1", 550, "5.1.10"));
    EXPECT_FALSE(fits("X.1.1", 550, ""));
    EXPECT_TRUE(fits("5.7.*", 550, "5.7.606"));
    EXPECT_FALSE(fits("5.7.*", 550, "5.1.7"));
    EXPECT_TRUE(fits("X.*", 550, "5.3.4"));
    EXPECT_TRUE(fits("5.7.606..649", 550, "5.7.612"));
    EXPECT_TRUE(fits("5.7.606..649", 550, "5.7.649"));
    EXPECT_FALSE(fits("5.7.606..649", 550, "5.7.650"));
    EXPECT_FALSE(fits("5.7.606..649", 550, "5.1.612"));
    EXPECT_FALSE(fits("5.7.606..649", 550, "4.7.612"));
    EXPECT_TRUE(fits("X.7.606..649", 450, "4.7.606"));
    // What is not a code constraint never fits.
    EXPECT_FALSE(fits("5.7.a..b", 550, "5.7.1"));
    EXPECT_FALSE(fits("55", 55, ""));
}

TEST(Classifier, ASyntaxReplyCodeYieldsToAnEnhancedCodeOfAnotherSubject)
{
    // 500-504 say the command could not be parsed, unless RFC 3463's detail names another
    // subject: a mailbox that does not exist, the sender's domain, security or policy.
    EXPECT_EQ(shipped().diagnoseText("501 5.5.4 Invalid command arguments").reason, "syntaxerror");
    EXPECT_EQ(shipped().diagnoseText("501 5.1.3 Bad recipient address syntax").reason, "syntaxerror");
    EXPECT_EQ(shipped().diagnoseText("500 Command unrecognized").reason, "syntaxerror");
    EXPECT_EQ(shipped().diagnoseText("501 5.1.1 bad address").reason, "userunknown");
    EXPECT_EQ(shipped().diagnoseText("504 5.7.4 Unrecognized authentication mechanism").family, "relay");
    EXPECT_EQ(shipped().diagnoseText("503 5.7.0 Error: access denied for unknown[192.0.2.10]").family, "reputation");
}

TEST(Knowledge, BadRulesNameTheFileAndRule)
{
    bt::KnowledgeBase kb;
    try {
        kb.addRules(R"({"format": "bouncetriage-rules/1", "rules": [{"id": "x.bad", "reason": "nosuchreason",
                     "patterns": ["a"]}]})",
                    "mine.json");
        FAIL() << "unknown reason accepted";
    } catch (const bt::KnowledgeError& e) {
        EXPECT_NE(std::string(e.what()).find("mine.json"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("x.bad"), std::string::npos);
    }
    EXPECT_THROW(kb.addRules("{not json", "broken.json"), bt::KnowledgeError);

    kb.addRules(R"({"format": "bouncetriage-rules/1", "rules": [{"id": "x.re", "reason": "filtered",
                 "patterns": ["(unclosed"]}]})",
                "re.json");
    // A classifier of these rules refuses to be built, and names the rule whose pattern is bad.
    auto refusedNaming = [](const bt::KnowledgeBase& rules, const std::string& id) {
        try {
            bt::Classifier c(std::make_shared<bt::KnowledgeBase>(rules));
            ADD_FAILURE() << "invalid pattern of " << id << " accepted";
        } catch (const bt::KnowledgeError& e) {
            EXPECT_NE(std::string(e.what()).find(id), std::string::npos) << e.what();
        }
    };
    refusedNaming(kb, "x.re");

    // The other languages' set is parsed and compiled only when a reply first needs it, but the
    // patterns a user's rules file brings to it are still parsed at load: a bad one is named
    // there, not at some later reply (the shipped ones are checked by Rules.*).
    bt::KnowledgeBase other;
    other.addRules(R"({"format": "bouncetriage-rules/1", "rules": [{"id": "lex.de.kaputt", "reason": "filtered",
                    "patterns": ["(offen"]}]})",
                   "de.json");
    refusedNaming(other, "lex.de.kaputt");
}

TEST(Knowledge, RulesFileFromDisk)
{
    const auto path = std::filesystem::temp_directory_path() / "bt-local-rules-test.json";
    {
        std::ofstream out(path);
        out << R"({"format": "bouncetriage-rules/1", "rules": [{"id": "disk.rule", "reason": "suspend",
                 "patterns": ["frozen account"], "priority": 99, "explanation": "e", "steps": ["s"],
                 "examples": ["550 frozen account"]}]})";
    }
    auto kb = bt::KnowledgeBase::loadDefault();
    kb->addRulesFile(path);
    EXPECT_EQ(bt::Classifier(kb).diagnoseText("550 5.7.1 frozen account").reason, "suspend");
    std::filesystem::remove(path);
    EXPECT_THROW(kb->addRulesFile(path), bt::KnowledgeError);
}

TEST(Classifier, AMaskedAddressIsReadAsAnAddressAndShownAsWritten)
{
    // "[x.x.x.x]" is a help page's client address: the patterns that know one by its digits read
    // it, the reply and its evidence stay as written.
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    const auto real = c.diagnoseText("554 [192.0.2.1] Access denied");
    for (const std::string text :
         {"554 [x.x.x.x] Access denied", "554 [xxx.xxx.xxx.xxx] Access denied", "554 [198.51.100.x] Access denied"}) {
        const auto d = c.diagnoseText(text);
        EXPECT_EQ(d.reason, real.reason) << text;
        EXPECT_EQ(d.replyText, text);
        ASSERT_FALSE(d.evidence.empty()) << text;
        const auto& e = d.evidence.front();
        EXPECT_EQ(d.replyText.substr(e.start, e.end - e.start), text.substr(4)) << text;
    }
    // Not a masked address: a host name that starts like one, a version.
    EXPECT_NE(c.diagnoseText("554 x.x.x.x.example.com Access denied").reason, real.reason);
}

TEST(Classifier, AMultiLineReplyWrittenOnOneLineIsReadAsItsLines)
{
    // A TSV cell or a log holds a multi-line reply with its breaks escaped: read as the lines they
    // stand for, a phrase split between two lines loses the line code inside it.
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    const auto one = c.diagnoseText("550 5.1.1 The email account that you tried to reach does not exist.");
    for (const char* text : {"550-5.1.1 The email account that you tried to reach does not\\n550 5.1.1 exist.",
                             "550-5.1.1 The email account that you tried to reach does not\\r\\n550 5.1.1 exist."}) {
        const auto lines = c.diagnoseText(text);
        EXPECT_EQ(lines.reason, one.reason) << text;
        EXPECT_EQ(lines.family, "address") << text;
    }
    // An escaped backslash before an n is a backslash and an n, not a break.
    EXPECT_TRUE(bt::text::hasEscapedBreaks("550-a\\n550 b"));
    EXPECT_FALSE(bt::text::hasEscapedBreaks("550 C:\\\\new folder"));
    EXPECT_FALSE(bt::text::hasEscapedBreaks("550-a\\n550 b\nc")); // it has line breaks of its own
    std::string escaped = "a\\\\nb\\nc\\r\\nd";
    const auto size = escaped.size();
    bt::text::expandEscapedBreaks(escaped);
    EXPECT_EQ(escaped, "a\\\\nb \nc  \r\nd");
    EXPECT_EQ(escaped.size(), size);
}

TEST(Classifier, AMultiLineReplyIsReadWithoutItsLineCodes)
{
    // A long reply comes as lines that each repeat the codes, and a line may end inside a phrase:
    // the words are read as one sentence, the evidence still points into the reply as written.
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    const auto one = c.diagnoseText("421 4.7.0 mail.example.com Too many bad recipients; closing connection");
    const auto lines = c.diagnoseText("421-4.7.0 mail.example.com Too\n421-4.7.0 many bad\n421 4.7.0 recipients; "
                                      "closing connection");
    EXPECT_EQ(lines.reason, one.reason);
    EXPECT_EQ(lines.family, "policy");
    ASSERT_FALSE(lines.evidence.empty());
    bool spansThePhrase = false;
    for (const auto& e : lines.evidence) {
        ASSERT_LE(e.end, lines.replyText.size());
        const auto text = lines.replyText.substr(e.start, e.end - e.start);
        spansThePhrase = spansThePhrase || (text.starts_with("Too") && text.ends_with("recipients"));
    }
    EXPECT_TRUE(spansThePhrase) << lines.replyText;
    // Quoted to a person, the evidence reads without the line codes inside it.
    bool quotedClean = false;
    for (const auto& e : lines.evidence)
        quotedClean = quotedClean
            || bt::readableWords(lines.replyText, lines.basicCode, e.start, e.end) == "Too many bad recipients";
    EXPECT_TRUE(quotedClean);
    // A one-line reply's words are its bytes, whatever numbers they hold.
    const std::string one421 = "421 4.7.0 Too many 421 recipients";
    EXPECT_EQ(bt::readableWords(one421, 421, 10, one421.size()), "Too many 421 recipients");
    // Gmail's form, the codes in every line.
    EXPECT_EQ(c.diagnoseText("550-5.7.1 [192.0.2.1] Our system has detected that this message is likely\n550-5.7.1 "
                             "unsolicited mail. To reduce the amount of spam sent to Gmail, this\n550 5.7.1 "
                             "message has been blocked.")
                  .family,
              "content");
    // A number equal to the code inside a line is a word, not a line code.
    const auto limit = c.diagnoseText("550-5.7.1 Too many messages: the limit is\n550 5.7.1 550 per hour from your "
                                      "IP address");
    EXPECT_EQ(limit.family,
              c.diagnoseText("550 5.7.1 Too many messages: the limit is 550 per hour from your IP "
                             "address")
                  .family);
}

TEST(Classifier, SpacingAndTypographicQuotesAreReadAsPlainText)
{
    // A reply pasted from a web page: no-break spaces, a tab, doubled spaces, a typographic
    // apostrophe. It reads as the plain reply does, and its evidence still falls on whole
    // characters of the text as pasted.
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    const std::string nbsp = "\xC2\xA0", apostrophe = "\xE2\x80\x99";
    const std::string pasted = "550" + nbsp + "5.1.1" + nbsp + "The\temail  account that you tried to reach doesn"
        + apostrophe + "t exist." + nbsp + "Please check the address";
    const auto d = c.diagnoseText(pasted);
    const auto plain
        = c.diagnoseText("550 5.1.1 The email account that you tried to reach doesn't exist. Please check the address");
    EXPECT_EQ(d.basicCode, 550);
    EXPECT_EQ(d.enhancedCode, "5.1.1");
    EXPECT_EQ(d.reason, plain.reason);
    EXPECT_EQ(d.family, "address");
    ASSERT_FALSE(d.evidence.empty());
    auto continuation = [](unsigned char b) { return b >= 0x80 && b < 0xC0; };
    for (const auto& e : d.evidence) {
        ASSERT_LE(e.end, d.replyText.size()) << e.rule;
        ASSERT_LT(e.start, e.end) << e.rule;
        EXPECT_FALSE(continuation(static_cast<unsigned char>(d.replyText[e.start]))) << e.rule;
        if (e.end < d.replyText.size()) {
            EXPECT_FALSE(continuation(static_cast<unsigned char>(d.replyText[e.end]))) << e.rule;
        }
    }
}

TEST(Classifier, TheBasicCodeIsNotCalledAMailboxProblemOnABlockOrAnAuthFailure)
{
    // RFC 5321 words 550 "mailbox unavailable"; on a block or an auth failure that misleads, so
    // the Codes line keeps only "Requested action not taken" there and the enhanced code says more.
    const auto block = shipped().diagnoseText("550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request "
                                              "removal from this list please visit https://sender.office.com/");
    ASSERT_EQ(block.family, "reputation");
    EXPECT_EQ(block.codeMeaning.find("mailbox"), std::string::npos) << block.codeMeaning;
    EXPECT_EQ(block.codeMeaning.rfind("550 Requested action not taken", 0), 0u) << block.codeMeaning;
    EXPECT_NE(block.codeMeaning.find("5.7.606"), std::string::npos) << block.codeMeaning;

    const auto mailbox
        = shipped().diagnoseText("550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown");
    ASSERT_EQ(mailbox.family, "address");
    EXPECT_NE(mailbox.codeMeaning.find("mailbox unavailable"), std::string::npos) << mailbox.codeMeaning;
}

TEST(Classifier, ABlocklistsRemovalPageIsOneStepNotTwo)
{
    // The rule's own step already sends the user to sender.office.com: the blocklist's removal
    // step would ask the same again.
    for (const char* reply :
         {"550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit "
          "https://sender.office.com/ and follow the directions.",
          "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service "
          "provider since part of their network is on our block list (S3150). You can also refer your provider to "
          "http://mail.live.com/mail/troubleshooting.aspx#errors."}) {
        const auto d = shipped().diagnoseText(reply);
        ASSERT_FALSE(d.blocklists.empty()) << reply;
        const auto naming = std::count_if(d.steps.begin(), d.steps.end(), [](const std::string& s) {
            return s.find("sender.office.com") != std::string::npos;
        });
        EXPECT_EQ(naming, 1) << reply;
    }
    // A list no step names still gets its removal step.
    const auto spamhaus = shipped().diagnoseText(
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
        "https://www.spamhaus.org/query/ip/192.0.2.1");
    EXPECT_TRUE(std::any_of(spamhaus.steps.begin(), spamhaus.steps.end(),
                            [](const std::string& s) { return s.find("spamhaus.org") != std::string::npos; }));
}

// A phrase between word boundaries is found by a plain search, other patterns by RE2: both give
// the leftmost span RE2 would, whatever the case, and skip an occurrence glued to a word.
TEST(Classifier, EvidenceSpanIsTheLeftmostWholeWordMatch)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    kb->addRules(R"({"format": "bouncetriage-rules/1", "rules": [
        {"id": "local.literal", "reason": "policyviolation", "patterns": ["\\bZQX gateway\\. refused\\b"],
         "priority": 99, "explanation": "x", "steps": ["y"], "examples": ["550 zqx gateway. refused"]},
        {"id": "local.regex", "reason": "filtered", "patterns": ["\\bQQZ (?:door|gate) shut\\b"],
         "priority": 99, "explanation": "x", "steps": ["y"], "examples": ["550 QQZ door shut"]}]})",
                 "local.json");
    const bt::Classifier c(kb);
    auto spanOf = [](const bt::Diagnosis& d, std::string_view rule) -> std::string {
        for (const auto& e : d.evidence)
            if (e.rule == rule)
                return d.replyText.substr(e.start, e.end - e.start);
        return "(none)";
    };
    // The first occurrence is glued to a word on both sides; the second is whole, in other case.
    const auto literal = c.diagnoseText("550 xZQX gateway. refusedx, then: zqx GATEWAY. Refused here");
    EXPECT_EQ(literal.reason, "policyviolation");
    EXPECT_EQ(spanOf(literal, "local.literal"), "zqx GATEWAY. Refused");
    EXPECT_EQ(literal.replyText.find("zqx GATEWAY"), literal.evidence.front().start);

    const auto regex = c.diagnoseText("550 aQQZ gate shut, QQZ Gate Shut now");
    EXPECT_EQ(regex.reason, "filtered");
    EXPECT_EQ(spanOf(regex, "local.regex"), "QQZ Gate Shut");

    // Not ASCII: RE2 finds the span (its case folding is Unicode's).
    const auto utf8 = c.diagnoseText("550 Zugang verweigert — zqx gateway. refused");
    EXPECT_EQ(spanOf(utf8, "local.literal"), "zqx gateway. refused");
}

// "rfc822;" is the address type of a delivery report's recipient fields, not a standard the
// message broke: a report's fields quoted in the text must not read as a malformed message.
TEST(Classifier, DeliveryReportAddressTypeIsNoStandardCited)
{
    const auto d = shipped().diagnoseText(
        "Final-Recipient: rfc822; bob@example.com Action: delayed Status: 4.4.7 Message delivery time expired");
    EXPECT_NE(d.reason, "notcompliantrfc");
    EXPECT_EQ(shipped().diagnoseText("550 5.6.0 Message is not RFC 822 compliant").reason, "notcompliantrfc");
}

TEST(Classifier, WhatABounceMeansForTheAddressIsDecidedOnce)
{
    using K = bt::BounceKind;
    const auto kind = [](const char* reply) { return bt::bounceKind(shipped().diagnoseText(reply)); };
    EXPECT_EQ(kind("550 5.1.1 <a@example.jp>: Recipient address rejected: User unknown"), K::Hard);
    EXPECT_EQ(kind("550 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.spamhaus.org"),
              K::PermanentAddressFine);
    EXPECT_EQ(kind("550 5.2.1 The email account that you tried to reach is disabled."), K::PermanentUnusable);
    EXPECT_EQ(kind("452 4.2.2 The email account that you tried to reach is over quota."), K::Soft);
    EXPECT_EQ(kind("Mailbox is full"), K::Unstated);
    // A permanent refusal whose cause nothing names says nothing about the address either.
    EXPECT_EQ(kind("554 Message refused"), K::PermanentCauseUnknown);
    EXPECT_EQ(kind("550"), K::PermanentCauseUnknown);
    bt::Diagnosis vacation;
    vacation.family = "not_bounce";
    vacation.permanent = true;
    EXPECT_EQ(bt::bounceKind(vacation), K::NotBounce);
    // The CLI's card says the same words.
    const auto card = bt::toCard(shipped().diagnoseText("550 5.7.1 Service unavailable; client host [192.0.2.1] "
                                                        "blocked using zen.spamhaus.org"));
    EXPECT_NE(card.find("(permanent, address fine)"), std::string::npos) << card;
}

TEST(Vocabulary, TheListsAreVocabularyMdsWords)
{
    EXPECT_EQ(bt::vocabularyReasons().size(), 36u);
    const std::vector<std::string_view> families {"address",   "relay",      "auth",       "reputation", "policy",
                                                  "content",   "capacity",   "rate_limit", "routing",    "system",
                                                  "complaint", "not_bounce", "unknown"};
    EXPECT_EQ(bt::vocabularyFamilies(), families);
    for (const auto reason : bt::vocabularyReasons()) {
        EXPECT_TRUE(bt::isKnownReason(reason)) << reason;
        EXPECT_NE(std::find(bt::vocabularyActions().begin(), bt::vocabularyActions().end(), bt::defaultAction(reason)),
                  bt::vocabularyActions().end())
            << reason;
    }
    EXPECT_EQ(bt::vocabularyActions().size(), 11u) << "vocabulary.md names eleven actions";
}

// The stage a pasted reply names counts as it does in a bounce: "user unknown" refused at MAIL
// FROM is the sender's refusal, after DATA a filter's; a sender's refusal Postfix gives at RCPT
// TO (its default smtpd_delay_reject) stays the sender's.
TEST(Classifier, APastedRepliesStageCountsAsInABounce)
{
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    EXPECT_EQ(c.diagnoseText("550 5.1.1 User unknown (in reply to MAIL FROM command)").reason, "rejected");
    EXPECT_EQ(c.diagnoseText("550 User unknown (in reply to end of DATA command)").reason, "filtered");
    EXPECT_EQ(c.diagnoseText("550 5.1.1 User unknown (in reply to RCPT TO command)").reason, "userunknown");
    const auto sender = c.diagnoseText("501 5.1.8 Sender address must contain a domain (in reply to RCPT TO command)");
    EXPECT_EQ(sender.reason, "rejected");
    EXPECT_EQ(sender.smtpStage, "RCPT TO");
}

// A reply copied from a page's HTML source reads as the reply: each entity as its character, and
// the evidence still covers the entities as written.
TEST(Classifier, HtmlEntitiesAreReadAsTheirCharacters)
{
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    const std::string pasted = "550 5.7.1 &lt;bob@example.net&gt;: Recipient address rejected: Mail from your IP "
                               "isn&#39;t accepted, it&#x27;s listed on zen.spamhaus.org";
    const auto d = c.diagnoseText(pasted);
    EXPECT_EQ(d.family, "reputation");
    ASSERT_FALSE(d.evidence.empty());
    for (const auto& e : d.evidence) {
        ASSERT_LE(e.end, d.replyText.size());
        // No span starts or ends inside an entity.
        for (const auto at : {e.start, e.end}) {
            const auto amp = d.replyText.rfind('&', at == 0 ? 0 : at - 1);
            EXPECT_TRUE(at == 0 || amp == std::string::npos || d.replyText.find(';', amp) < at || amp >= at)
                << d.replyText.substr(e.start, e.end - e.start);
        }
    }
}

// A notice that the message was delivered or relayed is not second-guessed by the model, which
// learnt from refusals: "successfully relayed" had read as relaying denied.
TEST(Classifier, ADeliveryNoticeIsNotSecondGuessedIntoARefusal)
{
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    for (const char* notice :
         {"Delivery Status Notification (Relay) Your message has been successfully relayed to the following "
          "recipients, but the requested delivery status notifications may not be generated by the destination.",
          "Your message was successfully delivered to the destination(s) listed below.",
          "Your message has been delivered to the following recipients: ann@example.net"}) {
        const auto d = c.diagnoseText(notice);
        EXPECT_EQ(d.family, "not_bounce") << notice << " -> " << d.reason << " (" << d.confidence << ")";
        EXPECT_TRUE(d.overruled.empty()) << notice;
    }
}
