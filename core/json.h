// SPDX-License-Identifier: MIT
#pragma once

#include "bounce.h"
#include "diagnosis.h"
#include "dmarcmatch.h"

#include <string>

namespace bt
{

/// The diagnosis as one JSON object (one line), with the keys the CLI documents:
/// basic_code, enhanced_code, reply_text, reason, family, spam_related, action, hard_bounce,
/// evidence [{start, end, rule}] in Unicode code points of reply_text, blocklists, provider,
/// explanation, steps — plus code_meaning, remote_host, remote_ip, smtp_stage, rules, references.
/// How much of a diagnosis a JSON line carries.
enum class JsonDetail {
    Full, ///< every key
    /// Without explanation, steps and references: the same for every reply of a reason or rule,
    /// they are half of a line's bytes; `bouncetriage-cli explain` prints them once.
    Brief,
};

std::string toJson(const Diagnosis& d, JsonDetail detail = JsonDetail::Full);

/// One bounced recipient read from a bounce email, as `bouncetriage-cli parse --json` prints it:
/// file, message_index, recipient, dsn_action, codes, the diagnosis words, kind, format, MTAs,
/// timestamp, sender and original-message fields (README lists them).
/// `dmarc`, when given (parse --workspace), adds a "dmarc" object to an auth or policy record: what
/// the workspace's aggregate reports saw of its traffic on its day ({"matched_on", "rows"}), and
/// null to the others.
std::string toJson(const BounceRecord& r, const std::string& file, std::size_t messageIndex,
                   const std::vector<DmarcMatch>* dmarc = nullptr);

/// A readable multi-line card for terminals.
std::string toCard(const Diagnosis& d);

} // namespace bt
