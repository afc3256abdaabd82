// SPDX-License-Identifier: MIT
#pragma once

#include "diagnosis.h"

#include <string>

namespace bt
{

/// The diagnosis as one JSON object (one line), with the keys the CLI documents:
/// basic_code, enhanced_code, reply_text, reason, family, spam_related, action, hard_bounce,
/// evidence [{start, end, rule}] in Unicode code points of reply_text, blocklists, provider,
/// explanation, steps — plus code_meaning, remote_host, remote_ip, smtp_stage, rules, references.
std::string toJson(const Diagnosis& d);

/// A readable multi-line card for terminals.
std::string toCard(const Diagnosis& d);

} // namespace bt
