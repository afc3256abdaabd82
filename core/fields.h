// SPDX-License-Identifier: MIT
#pragma once

#include "query.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bt
{

/// What a report groups by: a field of kFields (Day and Hour both group the time field).
/// Keep FromDomain last, or change fields_test's count of groupings.
enum class GroupBy { Provider, Domain, Ip, Campaign, Template, Family, Day, Hour, Reason, FromDomain };

/// What a field's values are: words (provider names, families…), SMTP codes, times or ids.
enum class FieldKind { Text, Code, Time, Number };

/// How a filter on the field matches an event, in SQL and in the cube alike.
enum class FieldMatch {
    Any, ///< any of a list of values; "(none)" matches the empty field
    Equal, ///< one value, exactly
    Prefix, ///< an enhanced status code: "5.7" matches itself and 5.7.x, "5.7.1" only itself
    Range, ///< time bounds: from inclusive, to exclusive
    Words, ///< full-text search: every word somewhere in the column
};

/// The two members of EventFilter that bound a time field.
struct FieldBounds {
    std::string EventFilter::*from;
    std::string EventFilter::*to;
};
/// Where a field's filter lives in EventFilter.
using FieldSlot
    = std::variant<std::vector<std::string> EventFilter::*, std::string EventFilter::*,
                   std::optional<int> EventFilter::*, std::optional<std::int64_t> EventFilter::*, FieldBounds>;

/// One field of the events that the triage views, the CLI and the report filter on, group by or
/// search: the single description the SQL, the cube, the filter panel, the drill-down words, the
/// CLI options and the report are generated from (see core/README.md, "Fields").
struct Field {
    std::string_view id {}; ///< the field's name in APIs: distinctValues, FilterPanel::combo, --by
    std::string_view column {}; ///< its column of the events table
    FieldKind kind = FieldKind::Text;
    FieldMatch match = FieldMatch::Any;
    /// True for the population (which traffic is looked at, deliveries included); false for the
    /// bounce fields (which bounces of it are counted). See EventFilter.
    bool population = false;
    FieldSlot slot {};
    /// The --filter keys (CLI and window): one, two for a time field (from, to), none for a
    /// field set only by clicking (a template).
    std::array<std::string_view, 2> options {};
    std::string_view optionHelp {}; ///< how the CLI's help shows the key
    std::optional<GroupBy> group {}; ///< what a report groups by on it; a time field also by Hour
    bool lowercase = false; ///< values are stored lower-case, so typed ones are lowered
    /// Values are picked from what the workspace holds (a fixed vocabulary), not typed.
    bool picked = false;
    std::span<const std::string_view> choices {}; ///< the only values it takes, when fixed
    std::string_view badValue {}; ///< why a value of a checked field cannot be read
    std::string_view word {}; ///< its word in the drill-down trail: "IP"
    std::string_view label {}; ///< its name in the report and group headers: "sending IP"
    std::string_view panelLabel {}; ///< the filter panel's row, '&' before the access key; empty: no row
    std::string_view hint {}; ///< the panel's placeholder text
    std::string_view unknownGroup = "(none)"; ///< the group of events without it, where people read it
};

inline constexpr std::string_view kEventTypes[]
    = {"bounce", "deferral", "delivered", "complaint", "auto_reply", "dropped"};
inline constexpr std::string_view kSpamValues[] = {"yes", "often", "no", "unknown"};

/// Every field, in the order a filter is described and its SQL parameters bound: time, then the
/// rest of the population, then the bounce fields. To add a field: one entry here, a member of
/// EventFilter for its slot, and a workspace migration adding its column (workspace.cpp);
/// fields_test walks this table through every consumer.
inline constexpr Field kFields[] = {
    {.id = "time",
     .column = "timestamp",
     .kind = FieldKind::Time,
     .match = FieldMatch::Range,
     .population = true,
     .slot = FieldBounds {&EventFilter::from, &EventFilter::to},
     .options = {"from", "to"},
     .optionHelp = "from= and to= (ISO 8601: 2025-11-03, 2025-11-03T10, 2025-11-03T10:00:00Z; to is exclusive)",
     .group = GroupBy::Day,
     .badValue = "not an ISO 8601 date or time (2025-11-03, 2025-11-03T10, 2025-11-03T10:00:00Z)",
     .word = "time",
     .label = "time"},
    {.id = "provider",
     .column = "provider",
     .population = true,
     .slot = &EventFilter::providers,
     .options = {"provider"},
     .optionHelp = "provider= (name or its first word, any case)",
     .group = GroupBy::Provider,
     .word = "provider",
     .label = "provider",
     .panelLabel = "&Provider",
     .unknownGroup = "(unknown provider)"},
    {.id = "domain",
     .column = "recipient_domain",
     .population = true,
     .slot = &EventFilter::domains,
     .options = {"domain"},
     .optionHelp = "domain=",
     .group = GroupBy::Domain,
     .lowercase = true,
     .word = "domain",
     .label = "recipient domain",
     .panelLabel = "&Domain",
     .unknownGroup = "(no recipient domain)"},
    {.id = "ip",
     .column = "sending_ip",
     .population = true,
     .slot = &EventFilter::ips,
     .options = {"ip"},
     .optionHelp = "ip=",
     .group = GroupBy::Ip,
     .word = "IP",
     .label = "sending IP",
     .panelLabel = "Sending &IP",
     .unknownGroup = "(sending IP unknown)"},
    {.id = "campaign",
     .column = "campaign",
     .population = true,
     .slot = &EventFilter::campaigns,
     .options = {"campaign"},
     .optionHelp = "campaign=",
     .group = GroupBy::Campaign,
     .word = "campaign",
     .label = "campaign",
     .panelLabel = "Ca&mpaign",
     .unknownGroup = "(no campaign)"},
    {.id = "from_domain",
     .column = "from_domain",
     .population = true,
     .slot = &EventFilter::fromDomains,
     .options = {"from_domain"},
     .optionHelp = "from_domain= (the From header's domain, any case)",
     .group = GroupBy::FromDomain,
     .lowercase = true,
     .word = "From domain",
     .label = "From domain",
     .panelLabel = "Fr&om domain",
     .unknownGroup = "(From domain unknown)"},
    {.id = "family",
     .column = "family",
     .slot = &EventFilter::families,
     .options = {"family"},
     .optionHelp = "family=",
     .group = GroupBy::Family,
     .lowercase = true,
     .picked = true,
     .word = "family",
     .label = "family",
     .panelLabel = "Fami&ly"},
    {.id = "reason",
     .column = "reason",
     .slot = &EventFilter::reasons,
     .options = {"reason"},
     .optionHelp = "reason=",
     .group = GroupBy::Reason,
     .lowercase = true,
     .picked = true,
     .word = "reason",
     .label = "reason",
     .panelLabel = "Reaso&n"},
    {.id = "event_type",
     .column = "event_type",
     .slot = &EventFilter::eventTypes,
     .options = {"type"},
     .optionHelp = "type=",
     .lowercase = true,
     .picked = true,
     .choices = kEventTypes,
     .badValue = "not an event type (bounce, deferral, delivered, complaint, auto_reply, dropped)",
     .word = "type",
     .label = "event type",
     .panelLabel = "Event t&ype"},
    {.id = "code",
     .column = "basic_code",
     .kind = FieldKind::Code,
     .match = FieldMatch::Equal,
     .slot = &EventFilter::basicCode,
     .options = {"code"},
     .optionHelp = "code=550",
     .badValue = "not an SMTP reply code (three digits, 200 to 599)",
     .word = "code",
     .label = "basic code",
     .panelLabel = "&Code",
     .hint = "e.g. 550"},
    {.id = "status",
     .column = "enhanced_code",
     .kind = FieldKind::Code,
     .match = FieldMatch::Prefix,
     .slot = &EventFilter::enhancedCode,
     .options = {"status"},
     .optionHelp = "status=5.7.1",
     .badValue = "not an enhanced status code (5, 5.7 or 5.7.1)",
     .word = "status",
     .label = "enhanced code",
     .panelLabel = "&Status",
     .hint = "5.7 or 5.7.1"},
    {.id = "spam",
     .column = "spam_related",
     .match = FieldMatch::Equal,
     .slot = &EventFilter::spamRelated,
     .options = {"spam"},
     .optionHelp = "spam=yes",
     .lowercase = true,
     .choices = kSpamValues,
     .badValue = "spam takes yes, often, no or unknown",
     .word = "spam-related",
     .label = "spam-related",
     .panelLabel = "Spam-r&elated"},
    {.id = "template",
     .column = "template_id",
     .kind = FieldKind::Number,
     .match = FieldMatch::Equal,
     .slot = &EventFilter::templateId,
     .group = GroupBy::Template,
     .word = "template",
     .label = "reply template",
     .unknownGroup = "(no reply text)"},
    {.id = "text",
     .column = "reply_text",
     .match = FieldMatch::Words,
     .slot = &EventFilter::text,
     .options = {"text"},
     .optionHelp = "text=",
     .word = "text",
     .label = "text",
     .panelLabel = "Searc&h",
     .hint = "text in replies (Ctrl+F)"},
};
inline constexpr std::size_t kFieldCount = std::size(kFields);

/// The index of field `id` in kFields (a compile error, in a constant expression, when none).
constexpr std::size_t fieldIndex(std::string_view id)
{
    for (std::size_t i = 0; i < kFieldCount; ++i)
        if (kFields[i].id == id)
            return i;
    throw "no such field";
}
/// The field named `id`, or nullptr.
const Field* fieldById(std::string_view id);
/// The field a --filter key sets ("type" → event_type), or nullptr.
const Field* fieldByOption(std::string_view key);

/// True when `field` filters in `f`.
bool isSet(const EventFilter& f, const Field& field);
/// The field's values in `f` as text: a list's values, the single value, a number written out;
/// for a time field {from, to}, either of which may be empty. Empty when it does not filter.
std::vector<std::string> valuesOf(const EventFilter& f, const Field& field);
/// Sets a value already checked (bt::applyFilterOption checks typed ones): a list grows, a single
/// value is replaced, a number is read from its digits. `bound` picks from (0) or to (1).
void setValue(EventFilter& f, const Field& field, std::string value, int bound = 0);
/// Makes the field filter nothing.
void clearField(EventFilter& f, const Field& field);

/// Every grouping, fields in table order, then the time's day and hour.
const std::vector<GroupBy>& groupings();
/// The field a grouping groups on.
const Field& fieldOf(GroupBy by);
/// The grouping's name: --by, JSON ("provider", "day", "hour"…).
std::string_view groupName(GroupBy by);
/// What a group's header says: "Recipient domain", "Day".
std::string groupLabel(GroupBy by);
/// The group key as SQL over `events e` (without the "(none)" for empty).
std::string groupKeySql(GroupBy by);
/// Narrows `f` to group `key` of a report by `by` (a template by `templateId`, a day or hour by
/// its bounds): what a double-click on a group drills into.
void narrowToGroup(EventFilter& f, GroupBy by, const std::string& key, std::int64_t templateId = 0);

} // namespace bt
