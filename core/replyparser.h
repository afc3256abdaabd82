// SPDX-License-Identifier: MIT
#pragma once

#include "diagnosis.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

/// Every server reply found in a pasted text (a reply line, an NDR text or a whole bounce
/// email), in the order they appear. Continuation lines ("550-5.1.1 …") are joined into one
/// reply; Postfix/Exim/Exchange wrappers give remote host, IP and SMTP stage.
std::vector<Reply> findReplies(std::string_view text);

/// The reply that best explains the bounce: the most informative of findReplies(), or the
/// whole trimmed text (no codes) when nothing looks like a reply.
Reply primaryReply(std::string_view text);

/// True for a whole enhanced status code "c.s.d" with c in 2, 4, 5 (what RFC 3464's Status
/// field must hold): "5.1.1", "4.7.500"; false for "5.1", "6.1.1", "5.1.1.1".
bool isEnhancedStatus(std::string_view s);

/// Parses one reply string whose boundaries are already known (an ESP export column,
/// a Diagnostic-Code value). Never fails: missing parts stay empty.
Reply parseReply(std::string_view text);

/// A Diagnostic-Code's value without its diagnostic type ("smtp;", "X-Postfix;", "X-Unix;"),
/// trimmed.
std::string_view stripDiagnosticType(std::string_view s);

/// The sending domain a reply names when it refuses that domain's mail, for the DNS checks the
/// verdict calls for: "SPF [example.com] with ip: …" (Gmail), "Unauthenticated email from
/// example.com is not accepted" (Gmail, Yahoo), "DKIM [example.com]". Empty when it names none.
std::string senderDomainNamed(std::string_view reply);

} // namespace bt
