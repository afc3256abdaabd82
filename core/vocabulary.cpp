// SPDX-License-Identifier: MIT
// The reason → family / spam_related / action table of ../shared/docs/vocabulary.md. It is the
// contract between core, CLI, workspace and UI, so it lives in code beside the types, not in
// an editable table: a user's rule may override spam_related or action, never the words.
#include "classifier.h"

#include <array>

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

const ReasonRow* row(std::string_view reason)
{
    for (const auto& r : kReasons)
        if (r.reason == reason)
            return &r;
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

} // namespace bt
