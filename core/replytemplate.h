// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace bt
{

class KnowledgeBase;

/// The reply with its variable parts masked, so the same server message sent about different
/// recipients clusters into one template: addresses → <email>, IPs → <ip>, host names → <host>,
/// ids → <id>, numbers → <n>, times → <time>, query values with digits → <query>. Reply codes
/// (550, 5.1.1) and words stay, and so do blocklist zones named in `kb` (zen.spamhaus.org is
/// part of the message, not a variable). Deterministic; no regular expressions (runs per row).
std::string replyTemplate(std::string_view reply, const KnowledgeBase* kb = nullptr);

/// The mailbox provider of a recipient domain (consumer domains) or, failing that, of the
/// remote MTA host (MX suffixes): names from resources/providers.json; empty when unknown.
std::string providerFor(const KnowledgeBase& kb, std::string_view recipientDomain, std::string_view remoteHost);

/// The brand a recipient domain (or, failing that, its receiving host) belongs to when another
/// operator's servers take its mail — "AOL" for aol.com, whose events count under Yahoo — so the
/// domain can be shown with its brand; empty for a provider's own domains and unknown ones.
std::string brandFor(const KnowledgeBase& kb, std::string_view recipientDomain, std::string_view remoteHost);

} // namespace bt
