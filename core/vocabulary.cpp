// SPDX-License-Identifier: MIT
// The reason → family / spam_related / action table of ../shared/docs/vocabulary.md. It is the
// contract between core, CLI, workspace and UI, so it lives in code beside the types, not in
// an editable table: a user's rule may override spam_related or action, never the words.
#include "classifier.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace bt
{
namespace
{

struct ReasonRow {
    std::string_view reason;
    std::string_view family;
    std::string_view spam;
    std::string_view action;
};

constexpr std::array<ReasonRow, 36> kReasons {{
    {"userunknown", "address", "no", "suppress"},
    {"hasmoved", "address", "no", "suppress"},
    {"hostunknown", "address", "no", "suppress"},
    {"suspend", "address", "no", "suppress"},
    {"notaccept", "address", "no", "suppress"},
    {"suppressed", "address", "no", "suppress"},
    {"norelaying", "relay", "no", "fix_route"},
    {"securityerror", "relay", "no", "fix_route"},
    {"authfailure", "auth", "often", "fix_auth"},
    {"requireptr", "auth", "often", "fix_auth"},
    {"blocked", "reputation", "yes", "investigate_reputation"},
    {"badreputation", "reputation", "yes", "investigate_reputation"},
    {"policyviolation", "policy", "often", "confirm_policy"},
    {"rejected", "policy", "often", "confirm_policy"},
    {"filtered", "policy", "often", "confirm_policy"},
    {"spamdetected", "content", "yes", "review_content"},
    {"virusdetected", "content", "often", "review_content"},
    {"contenterror", "content", "often", "review_content"},
    {"notcompliantrfc", "content", "often", "review_content"},
    {"mailboxfull", "capacity", "no", "retry_later"},
    {"mesgtoobig", "capacity", "no", "reduce_size"},
    {"exceedlimit", "capacity", "no", "reduce_size"},
    {"systemfull", "capacity", "no", "retry_later"},
    {"speeding", "rate_limit", "often", "slow_down"},
    {"toomanyconn", "rate_limit", "often", "slow_down"},
    {"networkerror", "routing", "no", "retry_later"},
    {"expired", "routing", "no", "retry_later"},
    {"failedstarttls", "routing", "no", "fix_route"},
    {"systemerror", "system", "no", "retry_later"},
    {"mailererror", "system", "no", "retry_later"},
    {"syntaxerror", "system", "no", "retry_later"},
    {"feedback", "complaint", "yes", "suppress"},
    {"vacation", "not_bounce", "no", "none"},
    {"delivered", "not_bounce", "no", "none"},
    {"undefined", "unknown", "unknown", "read_text"},
    {"onhold", "unknown", "unknown", "read_text"},
}};

/// The rows by first letter and length ("s" and 10: suppressed, systemfull): a lookup compares
/// one or two names, not up to 36 (this runs a dozen times a diagnosis; the loop over the table
/// was 3 % of bench_diagnose's instructions).
struct RowIndex {
    std::array<std::array<std::uint8_t, 4>, 26 * 16> slots {};
    constexpr RowIndex()
    {
        for (auto& s : slots)
            s.fill(0xFF);
        for (std::size_t i = 0; i < kReasons.size(); ++i) {
            auto& s = slots[key(kReasons[i].reason)];
            std::size_t k = 0;
            while (s[k] != 0xFF)
                ++k; // at most three names share a first letter and a length
            s[k] = static_cast<std::uint8_t>(i);
        }
    }
    static constexpr std::size_t key(std::string_view r)
    {
        return static_cast<std::size_t>(r.front() - 'a') * 16 + (r.size() & 15);
    }
};
constexpr RowIndex kRowIndex;

const ReasonRow* row(std::string_view reason)
{
    if (reason.empty() || reason.front() < 'a' || reason.front() > 'z')
        return nullptr;
    for (const std::uint8_t i : kRowIndex.slots[RowIndex::key(reason)]) {
        if (i == 0xFF)
            break;
        if (kReasons[i].reason == reason)
            return &kReasons[i];
    }
    return nullptr;
}

} // namespace

std::string_view familyOf(std::string_view reason)
{
    const auto* r = row(reason);
    return r ? r->family : std::string_view("unknown");
}

std::string_view defaultSpamRelated(std::string_view reason)
{
    const auto* r = row(reason);
    return r ? r->spam : std::string_view("unknown");
}

std::string_view defaultAction(std::string_view reason)
{
    const auto* r = row(reason);
    return r ? r->action : std::string_view("read_text");
}

bool isKnownReason(std::string_view reason)
{
    return row(reason) != nullptr;
}

std::string_view alternativeReading(const Diagnosis& d)
{
    if (d.alternative.empty() || familyOf(d.alternative) == d.family)
        return {};
    return d.alternative;
}

std::string_view alternativeWords(const Diagnosis& d)
{
    const std::string_view reply(d.replyText);
    const auto from = std::min(d.alternativeEvidence.start, reply.size());
    return reply.substr(from, std::clamp(d.alternativeEvidence.end, from, reply.size()) - from);
}

const std::vector<std::string_view>& vocabularyReasons()
{
    static const std::vector<std::string_view> list = [] {
        std::vector<std::string_view> v;
        for (const auto& r : kReasons)
            v.push_back(r.reason);
        return v;
    }();
    return list;
}

namespace
{

/// The distinct values of one column of kReasons, in the table's order.
std::vector<std::string_view> distinctColumn(std::string_view ReasonRow::*column)
{
    std::vector<std::string_view> v;
    for (const auto& r : kReasons)
        if (std::find(v.begin(), v.end(), r.*column) == v.end())
            v.push_back(r.*column);
    return v;
}

} // namespace

const std::vector<std::string_view>& vocabularyFamilies()
{
    static const std::vector<std::string_view> list = distinctColumn(&ReasonRow::family);
    return list;
}

const std::vector<std::string_view>& vocabularyActions()
{
    // read_text and none are in the table; the action of a size refusal too (reduce_size).
    static const std::vector<std::string_view> list = distinctColumn(&ReasonRow::action);
    return list;
}

BounceKind bounceKind(const Diagnosis& d)
{
    if (d.family == "not_bounce")
        return BounceKind::NotBounce;
    if (d.hardBounce)
        return BounceKind::Hard;
    // A permanent refusal that is not about the address (a blocklist, an SPF failure) must not
    // make anyone drop a good recipient; a disabled or suppressed mailbox is no hard bounce in
    // the RFC sense (it may come back), but the action is still to stop sending.
    // Nothing recognised says nothing about the address either ("554 Message refused").
    if (d.permanent && d.family == "unknown")
        return BounceKind::PermanentCauseUnknown;
    if (d.permanent)
        return d.action == "suppress" ? BounceKind::PermanentUnusable : BounceKind::PermanentAddressFine;
    const bool transient
        = (d.basicCode && *d.basicCode / 100 == 4) || (!d.enhancedCode.empty() && d.enhancedCode.front() == '4');
    return transient ? BounceKind::Soft : BounceKind::Unstated;
}

std::string_view bounceKindWord(BounceKind kind)
{
    switch (kind) {
    case BounceKind::NotBounce:
        return "not a bounce";
    case BounceKind::Hard:
        return "hard bounce";
    case BounceKind::PermanentUnusable:
        return "permanent, mailbox not usable";
    case BounceKind::PermanentAddressFine:
        return "permanent, address fine";
    case BounceKind::PermanentCauseUnknown:
        return "permanent, cause not recognised";
    case BounceKind::Soft:
        return "temporary";
    case BounceKind::Unstated:
        return "not stated as permanent";
    }
    return "";
}

} // namespace bt
