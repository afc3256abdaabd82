// SPDX-License-Identifier: MIT
#pragma once
// The message tester (issue 14, item 4): a received message → a checklist of what receivers
// judge it by. Offline parts read the message alone (Received chain, alignment, ARC structure,
// List-Unsubscribe, Message-ID, Date, From, TLS hops, the DKIM body hash); live parts ask DNS
// through checks.* and dns.* (SPF, DKIM keys and signatures, DMARC, PTR, blocklists) and say
// what they asked and when.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

class KnowledgeBase;

/// One line of the checklist.
struct TesterCheck {
    std::string id; ///< spf, dkim, arc, dmarc, alignment, ptr, blocklists, list_unsubscribe, message_id, date, from,
                    ///< tls, received, receiver_results
    std::string status; ///< pass, warn, fail, none (absent or not applicable), error (DNS trouble)
    std::string detail; ///< one plain sentence
    std::string evidence; ///< the header text or DNS answer the verdict rests on
    std::string domain, selector; ///< dkim only: d= and s=
};

/// Everything one test of one message found.
struct TesterReport {
    std::string ip; ///< the connecting IP (first hop outside the receiver), empty when not found
    std::string ipHeader; ///< the Received header that names it
    std::string receiver; ///< the receiver's host (the topmost Received's "by")
    std::string fromDomain;
    std::string mailFrom; ///< Return-Path address (RFC5321.MailFrom), empty when absent
    std::string dnsServer; ///< resolver asked, empty when offline
    std::string dnsError; ///< why DNS could not start (a bad server address), empty when it did
    std::int64_t checkedAt = 0; ///< unix seconds when the test ran
    std::vector<TesterCheck> checks;
};

/// How the test runs.
struct TesterOptions {
    std::string dnsServer; ///< "HOST[:PORT]"; empty = the system's resolvers
    bool offline = false; ///< no DNS at all: live checks are "none", saying so
    int timeoutMs = 3000; ///< per DNS question
    int deadlineMs = 30000; ///< for all DNS of the test
    std::int64_t now = 0; ///< unix seconds for x=, Date in the future; 0 = the clock
    std::shared_ptr<const KnowledgeBase> knowledge; ///< blocklist table; nullptr = the shipped one
    std::vector<std::string> blocklistZones; ///< only these zones; empty = the table's checked lists
};

/// Thrown when the input holds no message (no header block): the caller names the file.
struct TesterInputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Tests one received message (an .eml, a headers-only paste, "Show original" text). Never throws
/// for DNS trouble (those checks are `error`); throws TesterInputError when there is no message.
TesterReport testMessage(std::string_view message, const TesterOptions& options);

/// `{"ip", "from_domain", "receiver", "mail_from", "dns_server", "checked_at", "checks": [...]}`.
std::string toJson(const TesterReport& report);

/// The checklist as text, one check per line with its evidence indented below.
std::string toText(const TesterReport& report);

// ---- DKIM pieces, public for the tests and the fuzz target ----

/// A message split the way DKIM reads it: raw header fields (folding kept, CRLF line ends) in
/// order, and the body with CRLF line ends.
struct RawMessage {
    struct Field {
        std::string name; ///< as written
        std::string raw; ///< "Name: value\r\n continued" without the final CRLF
        std::string value() const; ///< unfolded, trimmed
    };
    std::vector<Field> fields;
    std::string body;
    bool hasBody = false; ///< a blank line separated headers from a body (a headers-only paste has none)
};

/// Splits a message; bare LF line ends become CRLF (an .eml saved on Unix), an mbox "From " line
/// and leading blank lines are skipped.
RawMessage splitMessage(std::string_view bytes);

/// RFC 6376 3.4.3 / 3.4.4 body canonicalisation ("simple" or "relaxed").
std::string canonicalBody(std::string_view body, std::string_view method);
/// RFC 6376 3.4.1 / 3.4.2 header canonicalisation of one raw field, with its CRLF.
std::string canonicalHeader(std::string_view rawField, std::string_view method);

} // namespace bt
