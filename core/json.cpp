// SPDX-License-Identifier: MIT
#include "json.h"

#include "alignment.h"
#include "classifier.h"
#include "jsonwriter.h"
#include "text.h"

namespace bt
{
namespace
{

/// The vocabulary.md words, in the same order in every JSON object the CLI prints.
void putVerdict(json::Writer& w, const Diagnosis& d)
{
    w.key("reason").value(d.reason);
    w.key("family").value(d.family);
    w.key("spam_related").value(d.spamRelated);
    w.key("confidence").value(d.confidence);
    w.key("action").value(d.action);
    w.key("hard_bounce").value(d.hardBounce);
}

void putCode(json::Writer& w, const std::optional<int>& code)
{
    if (code)
        w.value(*code);
    else
        w.null();
}

} // namespace

std::string toJson(const Diagnosis& d, JsonDetail detail)
{
    std::string out;
    out.reserve(1024);
    json::Writer w(out);
    w.beginObject();
    putCode(w.key("basic_code"), d.basicCode);
    w.key("enhanced_code").nullable(d.enhancedCode);
    w.key("reply_text").value(d.replyText);
    putVerdict(w, d);
    // The members of evidence and blocklist objects are in alphabetical order: the order the
    // first versions printed (nlohmann::json sorts the keys of its unordered objects), which
    // scripts reading our lines may have come to expect.
    w.key("evidence").beginArray();
    for (const auto& e : d.evidence) {
        w.beginObject();
        w.key("end").value(text::codePointOffset(d.replyText, e.end));
        w.key("rule").value(e.rule);
        w.key("start").value(text::codePointOffset(d.replyText, e.start));
        w.key("text").value(std::string_view(d.replyText).substr(e.start, e.end - e.start));
        w.endObject();
    }
    w.endArray();
    w.key("blocklists").beginArray();
    for (const auto& b : d.blocklists) {
        w.beginObject();
        w.key("delist_url").value(b.delistUrl);
        w.key("listing").value(b.listing);
        w.key("lists").value(b.lists);
        w.key("name").value(b.name);
        w.key("zone").nullable(b.zone);
        w.endObject();
    }
    w.endArray();
    w.key("provider").nullable(d.provider);
    if (detail == JsonDetail::Full) {
        w.key("explanation").value(d.explanation);
        w.key("steps").strings(d.steps);
    }
    w.key("code_meaning").nullable(d.codeMeaning);
    w.key("remote_host").nullable(d.remoteHost);
    w.key("remote_ip").nullable(d.remoteIp);
    w.key("smtp_stage").nullable(d.smtpStage);
    w.key("rules").strings(d.ruleIds);
    if (detail == JsonDetail::Full)
        w.key("references").strings(d.references);
    w.endObject();
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
        why.append("\"").append(d.replyText, e.start, e.end - e.start).append("\"");
    }
    line("Spam-related: ", d.spamRelated + (why.empty() ? std::string() : "  because of " + why));
    line("Action:       ", d.action);
    line("Decided by:   ", d.confidence);
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
