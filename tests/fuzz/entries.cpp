// SPDX-License-Identifier: MIT
// The targets' table and the entries that need neither files of a workspace nor DNS: the e-mail
// reader, one reply, Authentication-Results and alignment, the rules-file and column-profile
// loaders, the mbox splitter. The importers are in importentries.cpp, SPF/DMARC/DKIM in
// dnsentries.cpp.
#include "entries.h"

#include "alignment.h"
#include "bounce.h"
#include "classifier.h"
#include "importer.h"
#include "json.h"
#include "knowledge.h"
#include "mailsource.h"
#include "replyparser.h"
#include "support.h"
#include "tester.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <stdexcept>

namespace bt::fuzz
{

void fail(const std::string& why)
{
    std::fprintf(stderr, "fuzz entry: broken promise: %s\n", why.c_str());
    std::abort();
}

const Classifier& shippedClassifier()
{
    static const Classifier classifier(KnowledgeBase::loadDefault());
    return classifier;
}

namespace
{

void checkDiagnosis(const Diagnosis& d, const char* where)
{
    for (const auto& e : d.evidence)
        if (e.start > e.end || e.end > d.replyText.size())
            fail(std::string(where) + ": evidence " + std::to_string(e.start) + ".." + std::to_string(e.end)
                 + " outside a reply of " + std::to_string(d.replyText.size()) + " bytes");
}

void email(std::string_view input)
{
    static const BounceReader reader(std::make_shared<Classifier>(KnowledgeBase::loadDefault()));
    const auto out = reader.read(input);
    // Every outcome either has records or says why not, and no format module threw.
    if (out.records.empty() && out.error.empty())
        fail("a message gave neither records nor a reason");
    if (!out.warnings.empty())
        fail("a format module failed: " + out.warnings.front());
    for (const auto& r : out.records)
        checkDiagnosis(r.diagnosis, "email");
}

void reply(std::string_view input)
{
    const auto& c = shippedClassifier();
    for (const auto& r : findReplies(input))
        if (r.sourceOffset > input.size())
            fail("findReplies: a reply starts past the end of the text");
    const Reply primary = primaryReply(input);
    checkDiagnosis(c.diagnose(primary), "diagnose(primaryReply)");
    checkDiagnosis(c.diagnose(parseReply(input)), "diagnose(parseReply)");
    const auto d = c.diagnoseText(input);
    checkDiagnosis(d, "diagnoseText");
    // The JSON line of `diagnose --json`, full and brief: the writer's escaping of any bytes and
    // the evidence offsets in code points must give JSON a reader takes.
    for (const auto detail : {JsonDetail::Full, JsonDetail::Brief})
        if (!nlohmann::json::accept(toJson(d, detail)))
            fail("toJson(diagnoseText): not valid JSON");
    (void)senderDomainNamed(input);
}

bool isVerdict(const AlignmentVerdict& v)
{
    return v.state == "aligned" || v.state == "not_aligned" || v.state == "unknown";
}

/// Lines: From domain, Return-Path, DKIM d=, DKIM s=, Authentication-Results,
/// ARC-Authentication-Results (the fields OriginalMessage gets from a returned message).
void authResults(std::string_view input)
{
    OriginalMessage o;
    std::string* fields[] = {&o.fromDomain,
                             &o.returnPath,
                             &o.dkimDomain,
                             &o.dkimSelector,
                             &o.authenticationResults,
                             &o.arcAuthenticationResults};
    std::size_t i = 0;
    while (i < std::size(fields)) {
        const auto nl = input.find('\n');
        *fields[i++] = std::string(input.substr(0, nl));
        if (nl == std::string_view::npos)
            break;
        input.remove_prefix(nl + 1);
    }
    if (i == std::size(fields))
        o.arcAuthenticationResults += std::string(input); // the rest: a folded header's lines
    for (const auto* header : {&o.authenticationResults, &o.arcAuthenticationResults}) {
        const auto results = parseAuthenticationResults(*header);
        for (const auto& m : results.methods)
            if (std::any_of(m.method.begin(), m.method.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; }))
                fail("method \"" + m.method + "\" is not lower case");
    }
    const auto a = checkAlignment(o);
    if (!isVerdict(a.spf) || !isVerdict(a.dkim) || !isVerdict(a.dmarc))
        fail("an alignment verdict outside aligned/not_aligned/unknown");
    (void)organizationalDomain(o.fromDomain);
}

void rulesFile(std::string_view input)
{
    const auto path = scratchFile("rules.json", input);
    auto kb = std::make_shared<KnowledgeBase>();
    try {
        kb->addRulesFile(path);
    } catch (const KnowledgeError&) {
        return; // refused with a message naming the file (checked by the rules tests)
    }
    // Rules that load must also compile and run; a pattern RE2 refuses is a KnowledgeError
    // naming the file, the rule and the pattern.
    std::unique_ptr<Classifier> c;
    try {
        c = std::make_unique<Classifier>(kb);
    } catch (const KnowledgeError& e) {
        if (std::string_view(e.what()).find(path) == std::string_view::npos)
            fail(std::string("a rules error that does not name the file: ") + e.what());
        return;
    }
    checkDiagnosis(c->diagnoseText("550 5.1.1 <someone@example.com>: Recipient address rejected: User unknown"),
                   "user rules");
}

void columnProfile(std::string_view input)
{
    const auto path = scratchFile("profile.json", input);
    CsvProfile p;
    try {
        p = CsvProfile::load(path);
    } catch (const std::runtime_error& e) {
        if (std::string_view(e.what()).find(path) == std::string_view::npos)
            fail(std::string("a profile error that does not name the file: ") + e.what());
        return;
    }
    if (!p.columns.count("recipient"))
        fail("a profile loaded without a recipient column");
}

void mbox(std::string_view input)
{
    const auto path = scratchFile("input.mbox", input);
    std::uint64_t lastOffset = 0;
    std::size_t count = 0, bytes = 0;
    forEachMessage(
        path,
        [&](SourceMessage&& m) {
            if (m.index != count || (count > 0 && m.offset <= lastOffset) || m.offset > input.size())
                fail("message " + std::to_string(count) + ": index " + std::to_string(m.index) + ", offset "
                     + std::to_string(m.offset) + " out of order");
            lastOffset = m.offset;
            bytes += m.bytes.size();
            ++count;
            return true;
        },
        [&](const std::string&, const std::string&) {});
    // Undoing ">From " quoting only removes bytes; a last line without its line end gets one.
    if (bytes > input.size() + count)
        fail("the messages hold more bytes than the mbox");
}

} // namespace

// The importers' and the DNS records' entries (importentries.cpp, dnsentries.cpp).
void csvImport(std::string_view input);
void profileImport(std::string_view input);
void jsonImport(std::string_view input);
void logImport(std::string_view input);
/// The message tester without DNS: the Received chain, DKIM tags and body hash, ARC, Date,
/// Message-ID, List-Unsubscribe. Offline, no check may be an error; every status is one of the five
/// words; the JSON is JSON; both body canonicalisations are idempotent.
void tester(std::string_view input)
{
    TesterOptions o;
    o.offline = true;
    o.now = 1'764'000'000;
    TesterReport r;
    try {
        r = testMessage(input, o);
    } catch (const TesterInputError&) {
        if (!splitMessage(input).fields.empty())
            fail("a message with header fields was refused as having none");
        return;
    }
    static const std::set<std::string> words {"pass", "warn", "fail", "none", "error"};
    for (const auto& c : r.checks) {
        if (!words.count(c.status))
            fail("check " + c.id + " has status \"" + c.status + "\"");
        if (c.status == "error")
            fail("check " + c.id + " is an error without DNS: " + c.detail);
        if (c.detail.empty())
            fail("check " + c.id + " has no detail");
    }
    if (!nlohmann::json::accept(toJson(r)))
        fail("toJson gave no JSON");
    const auto m = splitMessage(input);
    for (const char* method : {"simple", "relaxed"}) {
        const auto once = canonicalBody(m.body, method);
        if (canonicalBody(once, method) != once)
            fail(std::string(method) + " body canonicalisation is not idempotent");
    }
}

void spf(std::string_view input);
void dmarc(std::string_view input);
void dkim(std::string_view input);

const std::vector<Target>& targets()
{
    static const std::vector<Target> all = {
        {"email", email, "bt::BounceReader::read: MIME, every format module, reply parser, classifier"},
        {"reply", reply, "findReplies, primaryReply, parseReply, the classifier and its JSON line on one reply text"},
        {"csv", csvImport,
         "bt::importPath on a CSV: detector, then the SendGrid, Postmark, SparkPost or M365 importer"},
        {"profile_csv", profileImport, "bt::importPath on a CSV with a column profile (the generic CSV importer)"},
        {"json", jsonImport,
         "bt::importPath on JSON: SES (SNS envelopes), SendGrid, Mailgun, Postmark, SparkPost, "
         "Mandrill, Brevo"},
        {"log", logImport, "bt::importPath on a log: Postfix and Exim lines"},
        {"mbox", mbox, "bt::forEachMessage on an mbox file (the splitter)"},
        {"spf", spf, "SPF record parsing, macro expansion and check_host(), DNS answers from the input"},
        {"dmarc", dmarc, "DMARC record parsing through bt::runChecks, the record from the input"},
        {"dkim", dkim, "DKIM key record parsing through bt::runChecks, the record from the input"},
        {"authresults", authResults, "Authentication-Results / ARC parsing and bt::checkAlignment"},
        {"tester", tester,
         "bt::testMessage offline: Received chain, DKIM tags and body hash, ARC, Date, Message-ID, "
         "List-Unsubscribe"},
        {"rules", rulesFile, "a user rules file: KnowledgeBase::addRulesFile, then a classifier of its rules"},
        {"profile", columnProfile, "a column profile file: CsvProfile::load"},
    };
    return all;
}

const Target* targetNamed(std::string_view name)
{
    for (const auto& t : targets())
        if (t.name == name)
            return &t;
    return nullptr;
}

} // namespace bt::fuzz
