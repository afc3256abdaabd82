// SPDX-License-Identifier: MIT
#include "json.h"

#include "alignment.h"
#include "text.h"

#include <nlohmann/json.hpp>

namespace bt
{
namespace
{

nlohmann::json nullable(const std::string& s)
{
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

/// The vocabulary.md words, in the same order in every JSON object the CLI prints.
void putVerdict(nlohmann::ordered_json& j, const Diagnosis& d)
{
    j["reason"] = d.reason;
    j["family"] = d.family;
    j["spam_related"] = d.spamRelated;
    j["confidence"] = d.confidence;
    j["action"] = d.action;
    j["hard_bounce"] = d.hardBounce;
}

} // namespace

std::string toJson(const Diagnosis& d)
{
    nlohmann::ordered_json j;
    j["basic_code"] = d.basicCode ? nlohmann::json(*d.basicCode) : nlohmann::json(nullptr);
    j["enhanced_code"] = nullable(d.enhancedCode);
    j["reply_text"] = d.replyText;
    putVerdict(j, d);
    auto ev = nlohmann::json::array();
    for (const auto& e : d.evidence)
        ev.push_back({{"start", text::codePointOffset(d.replyText, e.start)},
                      {"end", text::codePointOffset(d.replyText, e.end)},
                      {"rule", e.rule},
                      {"text", d.replyText.substr(e.start, e.end - e.start)}});
    j["evidence"] = ev;
    auto bl = nlohmann::json::array();
    for (const auto& b : d.blocklists)
        bl.push_back({{"name", b.name},
                      {"zone", nullable(b.zone)},
                      {"lists", b.lists},
                      {"delist_url", b.delistUrl},
                      {"listing", b.listing}});
    j["blocklists"] = bl;
    j["provider"] = nullable(d.provider);
    j["explanation"] = d.explanation;
    j["steps"] = d.steps;
    j["code_meaning"] = nullable(d.codeMeaning);
    j["remote_host"] = nullable(d.remoteHost);
    j["remote_ip"] = nullable(d.remoteIp);
    j["smtp_stage"] = nullable(d.smtpStage);
    j["rules"] = d.ruleIds;
    j["references"] = d.references;
    // Replace invalid UTF-8 rather than throw: pasted bounces carry raw 8-bit bytes.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string toJson(const BounceRecord& r, const std::string& file, std::size_t messageIndex)
{
    const auto& d = r.diagnosis;
    nlohmann::ordered_json j;
    j["file"] = file;
    j["message_index"] = messageIndex;
    j["recipient"] = nullable(r.recipient);
    j["dsn_action"] = nullable(r.dsnAction);
    j["basic_code"] = r.basicCode ? nlohmann::json(*r.basicCode) : nlohmann::json(nullptr);
    j["enhanced_code"] = nullable(r.enhancedCode);
    j["status_derived"] = r.statusDerived;
    j["reply_text"] = nullable(r.replyText);
    putVerdict(j, d);
    j["kind"] = r.kind;
    j["format"] = r.format;
    j["remote_mta"] = nullable(r.remoteMta);
    j["reporting_mta"] = nullable(r.reportingMta);
    j["timestamp"] = nullable(r.timestamp);
    j["envelope_sender"] = nullable(r.envelopeSender);
    j["from_domain"] = nullable(r.original.fromDomain);
    j["message_id"] = nullable(r.original.messageId);
    j["subject"] = nullable(r.original.subject);
    j["feedback_type"] = nullable(r.feedbackType);
    j["provider"] = nullable(d.provider);
    j["rules"] = d.ruleIds;
    const auto& o = r.original;
    nlohmann::ordered_json orig = nlohmann::ordered_json::object();
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
    for (const auto& [key, value] : fields)
        if (!value->empty())
            orig[key] = *value;
    j["original"] = orig;
    // Offline alignment of Return-Path, DKIM d= and From (organisational domains by libpsl).
    const auto al = checkAlignment(o);
    nlohmann::ordered_json align;
    align["from_domain"] = nullable(al.fromDomain);
    align["return_path_domain"] = nullable(al.returnPathDomain);
    align["dkim_domain"] = nullable(al.dkimDomain);
    align["from_organizational"] = nullable(al.fromOrg);
    for (const auto& [key, v] :
         {std::pair {"spf", &al.spf}, std::pair {"dkim", &al.dkim}, std::pair {"dmarc", &al.dmarc}})
        align[key] = {{"state", v->state}, {"reason", v->reason}};
    align["results"] = {{"source", nullable(al.resultsSource)},
                        {"authserv_id", nullable(al.authServId)},
                        {"spf", nullable(al.spfResult)},
                        {"dkim", nullable(al.dkimResult)},
                        {"dmarc", nullable(al.dmarcResult)}};
    j["alignment"] = align;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
    line("Verdict:      ",
         d.family + " / " + d.reason
             + (d.hardBounce      ? " (hard bounce)"
                    : d.permanent ? " (permanent)"
                                  : " (temporary)"));
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
