// SPDX-License-Identifier: MIT
#pragma once

#include "bounce.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bt
{

/// One method's result in an Authentication-Results header (RFC 8601): "dkim=pass header.d=x".
struct AuthMethodResult {
    std::string method; ///< spf, dkim, dmarc, arc … lower case
    std::string result; ///< pass, fail, none … lower case
    std::string reason;
    std::vector<std::pair<std::string, std::string>> properties; ///< {"header.d", "example.com"} …
    /// The value of a property ("smtp.mailfrom", "header.from", "header.d"), empty when absent.
    std::string property(std::string_view key) const;
};

/// A parsed Authentication-Results or ARC-Authentication-Results header.
struct AuthResults {
    std::string authServId;
    std::vector<AuthMethodResult> methods;
    /// The first result of a method, nullptr when the header has none.
    const AuthMethodResult* find(std::string_view method) const;
};

/// Parses RFC 8601 syntax: comments dropped, quoted values kept; ARC's leading "i=N;" skipped.
AuthResults parseAuthenticationResults(std::string_view header);

/// The organisational domain (registrable domain) by the public suffix list of libpsl:
/// "mail.example.co.uk" → "example.co.uk". Empty when the name is itself a public suffix.
std::string organizationalDomain(std::string_view domain);

/// aligned / not_aligned / unknown, with the reason in plain words.
struct AlignmentVerdict {
    std::string state = "unknown";
    std::string reason;
};

/// DMARC-style alignment of the returned message's identifiers, read offline from the bounce.
struct Alignment {
    std::string fromDomain, returnPathDomain, dkimDomain, dkimSelector;
    std::string fromOrg, returnPathOrg, dkimOrg; ///< organisational domains (libpsl)
    AlignmentVerdict spf; ///< Return-Path (RFC5321.MailFrom) domain against From, relaxed
    AlignmentVerdict dkim; ///< DKIM d= against From, relaxed
    AlignmentVerdict dmarc; ///< aligned when either identifier is aligned (and did not fail)
    std::string spfResult, dkimResult, dmarcResult; ///< as the receiver recorded them, empty when not
    std::string resultsSource; ///< "Authentication-Results", "ARC-Authentication-Results" or empty
    std::string authServId; ///< who wrote those results
};

/// Alignment of Return-Path, DKIM d= and From at the organisational domain, with the receiver's
/// own SPF/DKIM/DMARC results when the returned headers carry them.
Alignment checkAlignment(const OriginalMessage& original);

} // namespace bt
