// SPDX-License-Identifier: MIT
#pragma once

#include "workspace.h"

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace bt
{

/// A number of messages sent that the user knows from the ESP (its dashboard or statistics
/// export), for one provider, campaign or day: the "given" basis of that group's bounce rate.
struct SendCount {
    std::string kind; ///< provider, campaign or day
    std::string key; ///< "Gmail", "spring-sale", "2026-03-01"
    std::int64_t sent = 0;
    std::string source; ///< the file it came from
};

/// What reading a send-count CSV found.
struct SendCountsRead {
    std::vector<SendCount> counts;
    std::vector<std::string> errors; ///< "line 3: …", one per line not taken
};

/// Reads a CSV of two columns whose header names the kind and "sent": "provider,sent",
/// "campaign,sent" or "day,sent" (any case, comma, semicolon or tab; quoted fields; a BOM).
/// Each later line is one key and a whole number of messages; a day is YYYY-MM-DD. A line that
/// is none of these is an error naming the line; the same key twice keeps the last.
SendCountsRead readSendCounts(std::istream& in, const std::string& source = {});

/// Stores `counts` in the workspace (replacing earlier counts of the same kind and key).
/// Returns the number stored.
std::int64_t storeSendCounts(Workspace& ws, const std::vector<SendCount>& counts);
/// Every stored count, by kind and key; none for a workspace older than schema 5.
std::vector<SendCount> sendCounts(Workspace& ws);
/// Removes every stored count; returns how many there were.
std::int64_t clearSendCounts(Workspace& ws);

} // namespace bt
