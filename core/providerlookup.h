// SPDX-License-Identifier: MIT
#pragma once

#include "dns.h"
#include "workspace.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bt
{

class KnowledgeBase;

/// What looking up the providers of unknown recipient domains found.
struct ProviderLookup {
    struct Domain {
        std::string domain;
        std::string provider; ///< the operator its MX names; empty when none known
        std::string mx; ///< the MX host that named it (or the first MX, or empty)
        std::string status; ///< the MX answer: ok, none, nxdomain, servfail, timeout, error
        bool cached = false; ///< the answer came from the workspace's DNS cache
        std::int64_t events = 0; ///< events that took the provider
    };
    std::vector<Domain> domains; ///< every domain asked about, most events first
    std::int64_t events = 0; ///< events given a provider in all
    std::string server; ///< the resolver asked
};

/// Asks DNS for the MX of each recipient domain whose events have no provider (at most
/// `maxDomains`, those with the most events first) and gives those events the provider (its
/// operator: AOL's mail counts under Yahoo) that the MX hosts name in resources/providers.json
/// — a company domain whose MX is Google's or Microsoft's is a Workspace or Microsoft 365
/// tenant. Runs only when asked: it talks to the network. Answers are kept in the workspace's
/// dns_cache for their TTL, so asking again costs no query. Every failure (timeout, NXDOMAIN) is
/// a status in the result, never an exception; `options.cancel` and `options.deadline` end it.
ProviderLookup lookUpProviders(Workspace& ws, const KnowledgeBase& kb, dns::Options options, int maxDomains = 500);

} // namespace bt
