// SPDX-License-Identifier: MIT
#include "json.h"

#include "alignment.h"
#include "classifier.h"
#include "jsonwriter.h"
#include "text.h"

#include <charconv>
#include <string_view>
#include <utility>

namespace bt
{
namespace
{

/// The vocabulary.md words, in the same order in every JSON object the CLI prints, each
/// followed there by "hard_bounce": both writers below take them from here.
constexpr std::pair<std::string_view, std::string Diagnosis::*> kVerdictWords[] = {
    {"reason", &Diagnosis::reason},         {"family", &Diagnosis::family}, {"spam_related", &Diagnosis::spamRelated},
    {"confidence", &Diagnosis::confidence}, {"action", &Diagnosis::action},
};

void putVerdict(json::Writer& w, const Diagnosis& d)
{
    for (const auto& [name, member] : kVerdictWords)
        w.key(name).value(d.*member);
    w.key("hard_bounce").value(d.hardBounce);
}

void putCode(json::Writer& w, const std::optional<int>& code)
{
    if (code)
        w.value(*code);
    else
        w.null();
}

/// `"name":` then the string, or null when it is empty.
void putNullable(std::string& out, std::string_view keyAndColon, std::string_view s)
{
    out.append(keyAndColon);
    if (s.empty())
        out.append("null");
    else
        json::appendString(out, s);
}

void putStrings(std::string& out, std::string_view keyAndColon, const std::vector<std::string>& list)
{
    out.append(keyAndColon);
    out.push_back('[');
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (i > 0)
            out.push_back(',');
        json::appendString(out, list[i]);
    }
    out.push_back(']');
}

void putNumber(std::string& out, std::size_t n)
{
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, r.ptr);
}

} // namespace

// The one object printed per line by `diagnose --json --lines`, up to hundreds of thousands a
// second: its keys are written as literal pieces, commas included, rather than through
// json::Writer's per-key bookkeeping (a third of this function's time). The bytes are the
// Writer's: JsonWriter.EveryFixtureAndCorpusLinePrintsBackUnchanged holds them to nlohmann's.
std::string toJson(const Diagnosis& d, JsonDetail detail)
{
    std::string out;
    out.reserve(1024);
    out.append(R"({"basic_code":)");
    if (d.basicCode)
        out.append(std::to_string(*d.basicCode));
    else
        out.append("null");
    putNullable(out, R"(,"enhanced_code":)", d.enhancedCode);
    out.append(R"(,"reply_text":)");
    json::appendString(out, d.replyText);
    for (const auto& [name, member] : kVerdictWords) {
        out.append(",\"");
        out.append(name);
        out.append("\":");
        json::appendString(out, d.*member);
    }
    out.append(d.hardBounce ? R"(,"hard_bounce":true)" : R"(,"hard_bounce":false)");
    // The members of evidence and blocklist objects are in alphabetical order: the order the
    // first versions printed (nlohmann::json sorts the keys of its unordered objects), which
    // scripts reading our lines may have come to expect.
    out.append(R"(,"evidence":[)");
    for (std::size_t i = 0; i < d.evidence.size(); ++i) {
        const auto& e = d.evidence[i];
        // Code points up to the start, then on from there to the end: one pass over the text.
        const std::string_view reply(d.replyText);
        const auto from = std::min(e.start, reply.size());
        const auto start = text::codePointOffset(reply, from);
        const auto end = start + (e.end > from ? text::codePointOffset(reply.substr(from), e.end - from) : 0);
        out.append(i == 0 ? R"({"end":)" : R"(,{"end":)");
        putNumber(out, end);
        out.append(R"(,"rule":)");
        json::appendString(out, e.rule);
        out.append(R"(,"start":)");
        putNumber(out, start);
        out.append(R"(,"text":)");
        json::appendString(out, std::string_view(d.replyText).substr(e.start, e.end - e.start));
        out.push_back('}');
    }
    out.append(R"(],"blocklists":[)");
    for (std::size_t i = 0; i < d.blocklists.size(); ++i) {
        const auto& b = d.blocklists[i];
        out.append(i == 0 ? R"({"delist_url":)" : R"(,{"delist_url":)");
        json::appendString(out, b.delistUrl);
        out.append(b.listing ? R"(,"listing":true)" : R"(,"listing":false)");
        out.append(R"(,"lists":)");
        json::appendString(out, b.lists);
        out.append(R"(,"name":)");
        json::appendString(out, b.name);
        putNullable(out, R"(,"zone":)", b.zone);
        out.push_back('}');
    }
    out.push_back(']');
    putNullable(out, R"(,"provider":)", d.provider);
    if (detail == JsonDetail::Full) {
        out.append(R"(,"explanation":)");
        json::appendString(out, d.explanation);
        putStrings(out, R"(,"steps":)", d.steps);
    }
    putNullable(out, R"(,"code_meaning":)", d.codeMeaning);
    putNullable(out, R"(,"remote_host":)", d.remoteHost);
    putNullable(out, R"(,"remote_ip":)", d.remoteIp);
    putNullable(out, R"(,"smtp_stage":)", d.smtpStage);
    putStrings(out, R"(,"rules":)", d.ruleIds);
    putNullable(out, R"(,"overruled":)", d.overruled);
    if (const auto alt = alternativeReading(d); alt.empty()) {
        out.append(R"(,"alternative":null)");
    } else {
        const std::string_view reply(d.replyText);
        const auto words = alternativeWords(d);
        const auto start = text::codePointOffset(reply, static_cast<std::size_t>(words.data() - reply.data()));
        out.append(R"(,"alternative":{"end":)");
        putNumber(out, start + text::codePointOffset(words, words.size()));
        out.append(R"(,"family":)");
        json::appendString(out, familyOf(alt));
        out.append(R"(,"reason":)");
        json::appendString(out, alt);
        out.append(R"(,"rule":)");
        json::appendString(out, d.alternativeEvidence.rule);
        out.append(R"(,"start":)");
        putNumber(out, start);
        out.append(R"(,"text":)");
        json::appendString(out, words);
        out.push_back('}');
    }
    if (detail == JsonDetail::Full)
        putStrings(out, R"(,"references":)", d.references);
    out.push_back('}');
    return out;
}

namespace
{

void putDmarc(json::Writer& w, const BounceRecord& r, const std::vector<DmarcMatch>& matches)
{
    w.key("dmarc");
    if (!dmarcRelevant(r.diagnosis.family)) {
        w.null();
        return;
    }
    w.beginObject();
    // Bounce e-mails name no sending IP the reader keeps: their rows are the From domain's.
    w.key("matched_on").value(matches.empty() || !matches.front().byIp ? "from_domain" : "source_ip");
    w.key("rows").beginArray();
    for (const auto& m : matches) {
        w.beginObject();
        w.key("org_name").value(m.orgName);
        w.key("report_id").value(m.reportId);
        w.key("begin").value(m.begin);
        w.key("end").value(m.end);
        w.key("policy_domain").value(m.policyDomain);
        w.key("source_ip").value(m.row.sourceIp);
        w.key("count").value(m.row.count);
        w.key("disposition").nullable(m.row.disposition);
        w.key("dkim").nullable(m.row.dkim);
        w.key("spf").nullable(m.row.spf);
        w.key("header_from").nullable(m.row.headerFrom);
        w.key("auth").beginArray();
        for (const auto& a : m.row.auth) {
            w.beginObject();
            w.key("method").value(a.method);
            w.key("domain").nullable(a.domain);
            if (a.method == "dkim")
                w.key("selector").nullable(a.selector);
            else
                w.key("scope").nullable(a.scope);
            w.key("result").nullable(a.result);
            w.endObject();
        }
        w.endArray();
        w.key("summary").value(describeDmarcMatch(m));
        w.endObject();
    }
    w.endArray();
    w.endObject();
}

} // namespace

std::string toJson(const BounceRecord& r, const std::string& file, std::size_t messageIndex,
                   const std::vector<DmarcMatch>* dmarc)
{
    const auto& d = r.diagnosis;
    std::string out;
    out.reserve(2048);
    json::Writer w(out);
    w.beginObject();
    w.key("file").value(file);
    w.key("message_index").value(messageIndex);
    w.key("recipient").nullable(r.recipient);
    w.key("original_recipient").nullable(r.originalRecipient);
    w.key("dsn_action").nullable(r.dsnAction);
    putCode(w.key("basic_code"), r.basicCode);
    w.key("enhanced_code").nullable(r.enhancedCode);
    w.key("status_derived").value(r.statusDerived);
    w.key("reply_text").nullable(r.replyText);
    putVerdict(w, d);
    w.key("kind").value(r.kind);
    w.key("format").value(r.format);
    w.key("remote_mta").nullable(r.remoteMta);
    w.key("reporting_mta").nullable(r.reportingMta);
    w.key("timestamp").nullable(r.timestamp);
    w.key("envelope_sender").nullable(r.envelopeSender);
    w.key("from_domain").nullable(r.original.fromDomain);
    w.key("message_id").nullable(r.original.messageId);
    w.key("subject").nullable(r.original.subject);
    w.key("feedback_type").nullable(r.feedbackType);
    w.key("provider").nullable(d.provider);
    w.key("rules").strings(d.ruleIds);
    const auto& o = r.original;
    const std::pair<const char*, const std::string*> fields[] = {
        {"from", &o.from},
        {"return_path", &o.returnPath},
        {"to", &o.to},
        {"subject", &o.subject},
        {"message_id", &o.messageId},
        {"date", &o.date},
        {"dkim_domain", &o.dkimDomain},
        {"dkim_selector", &o.dkimSelector},
        {"authentication_results", &o.authenticationResults},
        {"list_id", &o.listId},
        {"list_unsubscribe", &o.listUnsubscribe},
        {"feedback_id", &o.feedbackId},
        {"campaign", &o.campaign},
    };
    w.key("original").beginObject();
    for (const auto& [key, value] : fields)
        if (!value->empty())
            w.key(key).value(*value);
    w.endObject();
    // Offline alignment of Return-Path, DKIM d= and From (organisational domains by libpsl).
    const auto al = checkAlignment(o);
    w.key("alignment").beginObject();
    w.key("from_domain").nullable(al.fromDomain);
    w.key("return_path_domain").nullable(al.returnPathDomain);
    w.key("dkim_domain").nullable(al.dkimDomain);
    w.key("from_organizational").nullable(al.fromOrg);
    for (const auto& [key, v] :
         {std::pair {"spf", &al.spf}, std::pair {"dkim", &al.dkim}, std::pair {"dmarc", &al.dmarc}}) {
        w.key(key).beginObject();
        w.key("state").value(v->state);
        w.key("reason").value(v->reason);
        w.endObject();
    }
    w.key("results").beginObject();
    w.key("source").nullable(al.resultsSource);
    w.key("authserv_id").nullable(al.authServId);
    w.key("spf").nullable(al.spfResult);
    w.key("dkim").nullable(al.dkimResult);
    w.key("dmarc").nullable(al.dmarcResult);
    w.endObject();
    w.endObject();
    if (dmarc)
        putDmarc(w, r, *dmarc);
    w.endObject();
    return out;
}

std::string toCard(const Diagnosis& d)
{
    std::string out;
    auto line = [&](std::string_view label, const std::string& value) {
        if (value.empty())
            return;
        out.append(label).append(value).append("\n");
    };
    line("Reply:        ", d.replyText);
    line("Codes:        ", d.codeMeaning.empty() ? std::string("none found") : d.codeMeaning);
    line("Verdict:      ", d.family + " / " + d.reason + " (" + std::string(bounceKindWord(bounceKind(d))) + ")");
    std::string why;
    for (const auto& e : d.evidence) {
        why += why.empty() ? "" : ", ";
        why.append("\"").append(readableWords(d.replyText, d.basicCode, e.start, e.end)).append("\"");
    }
    line("Spam-related: ", d.spamRelated + (why.empty() ? std::string() : "  because of " + why));
    line("Action:       ", d.action);
    line("Decided by:   ", d.confidence + (d.overruled.empty() ? "" : " (overruling the rules' " + d.overruled + ")"));
    if (const auto alt = alternativeReading(d); !alt.empty()) {
        const auto words
            = readableWords(d.replyText, d.basicCode, d.alternativeEvidence.start, d.alternativeEvidence.end);
        std::string value(" ");
        value.append(familyOf(alt)).append(" / ").append(alt);
        if (!words.empty())
            value.append(" because of \"").append(words).append("\"");
        value.append(" (").append(d.alternativeEvidence.rule).append(", nearly as strong as the verdict's words)");
        line("Also possible:", value);
    }
    line("Provider:     ", d.provider);
    line("Remote host:  ", d.remoteHost + (d.remoteIp.empty() ? "" : " [" + d.remoteIp + "]"));
    line("SMTP stage:   ", d.smtpStage);
    for (const auto& b : d.blocklists)
        line("Blocklist:    ", b.name + " — " + b.lists + (b.delistUrl.empty() ? "" : " — " + b.delistUrl));
    line("Explanation:  ", d.explanation);
    if (!d.steps.empty()) {
        out += "Next steps (cheapest first):\n";
        for (std::size_t i = 0; i < d.steps.size(); ++i)
            out += "  " + std::to_string(i + 1) + ". " + d.steps[i] + "\n";
    }
    return out;
}

} // namespace bt
