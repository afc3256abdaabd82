// SPDX-License-Identifier: MIT
#pragma once

#include "query.h"
#include "workspace.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

/// The keys `--filter KEY=VALUE` takes, in the CLI and in the window alike, from the field table
/// (bt::kFields) with the time bounds last: provider domain ip campaign family reason type code
/// status spam text from to.
const std::vector<std::string_view>& filterOptionKeys();

/// The keys with an example or a note each, as the CLI's help lists them ("provider= (name or
/// its first word, any case), domain=, …").
std::string filterOptionHelp();

/// `f` written back as options ("provider=Gmail", "from=2025-11-03T00:00:00Z"): what the CLI is
/// given to see the same events. A template, chosen by clicking, has no option and is left out.
std::vector<std::string> filterOptions(const EventFilter& f);

/// Applies one filter option to `f` (lists grow, single values are replaced). Values are
/// checked: `code` a three-digit SMTP code, `status` an enhanced status class ("5", "5.7",
/// "5.7.1"), `spam` yes/often/no/unknown, `from`/`to` ISO 8601 (2025-11-03, 2025-11-03T10,
/// 2025-11-03T10:00:00Z, with an offset or not: stored as UTC). False, with `error` naming
/// the key and the value, when the key is unknown or the value cannot be read; `f` is then
/// unchanged. The one parser of filter options: the CLI and the window both call it.
bool applyFilterOption(EventFilter& f, std::string_view key, std::string_view value, std::string* error = nullptr);
/// The same for "KEY=VALUE" as typed (spaces around the key and the value ignored).
bool applyFilterOption(EventFilter& f, std::string_view option, std::string* error = nullptr);

/// An ISO 8601 date or date and time as the workspace stores times ("2025-11-03T10:00:00Z");
/// nullopt when `value` is not one (or names no real day or time).
std::optional<std::string> isoTimeUtc(std::string_view value);

/// Replaces each provider of `f` by the workspace's own name for it: the same name in any
/// case, or the name whose first word it is ("microsoft" → "Microsoft 365 / Outlook.com").
/// False when one matches no provider of the workspace; `error` then says which and lists the
/// providers whose name contains it (or all of them when none does).
bool resolveProviders(Workspace& ws, EventFilter& f, std::string* error = nullptr);

} // namespace bt
