// SPDX-License-Identifier: MIT
#pragma once

#include "diagnosis.h"
#include "dns.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bt
{

class KnowledgeBase;
class Workspace;

/// What the user asked to check: a sending domain and/or a sending IP.
struct CheckRequest {
    std::string domain; ///< sending (From / envelope) domain: SPF, DMARC, DKIM, MX, domain blocklists
    std::string ip; ///< sending IP: SPF verdict, PTR, IP blocklists
    std::string sender; ///< MAIL FROM address for SPF macros; empty = postmaster@domain
    std::vector<std::string> selectors; ///< DKIM selectors to look up under domain
};

/// How the checks run.
struct CheckOptions {
    std::string dnsServer; ///< "HOST[:PORT]"; empty = the system's resolvers
    int timeoutMs = 3000; ///< per DNS question, retries included
    int deadlineMs = 30000; ///< for the whole run: whatever is unanswered then ends as timeout
    /// When set, the end of the whole run instead of now + deadlineMs: one deadline shared by
    /// several runChecks calls (the CLI's targets). deadlineMs is then only what the report says.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    const std::atomic<bool>* cancel = nullptr; ///< set true to stop; the report says cancelled
    std::shared_ptr<const KnowledgeBase> knowledge; ///< blocklist table; nullptr = the shipped one
    bool blocklists = true;
    /// False: ask nothing of the domain but its blocklists (no SPF, DMARC, MX): the message
    /// tester checks the domains of a message's links on the domain blocklists this way.
    bool domainRecords = true;
    /// Query only these zones (any zone, listed in the table or not); empty = every list the
    /// table marks `checked`.
    std::vector<std::string> blocklistZones;
    Workspace* workspace = nullptr; ///< answers cached there (TTL) when set
    /// Answers cached there instead of the workspace when set: lets a fuzz target answer every
    /// question from its input through the resolver's own cache interface (no network).
    dns::Cache* cache = nullptr;
};

/// How the answers behind one finding were obtained.
struct CheckSource {
    std::string server; ///< the resolver asked, "127.0.0.1:5353"
    bool cached = false; ///< every answer came from the workspace cache
    std::int64_t checkedAt = 0; ///< unix seconds of the oldest answer used
};

/// Status words: ok, none, nxdomain, servfail, timeout, error (see dns::Status).
struct SpfCheck {
    std::string status; ///< of the TXT lookup of the domain
    std::string record;
    std::optional<std::string> result; ///< RFC 7208 word for the request's IP; nullopt without an IP
    std::string recordResult; ///< the record on its own: permerror/temperror when broken, else "valid"
    int lookups = 0; ///< DNS-querying terms used (limit 10)
    int voidLookups = 0; ///< lookups that found nothing (limit 2)
    std::string matched; ///< the deciding term
    std::string reason;
    std::vector<std::string> notes;
    std::vector<std::string> domains; ///< records read (include and redirect chain)
    CheckSource source;
    std::string sentence;
};

struct DmarcCheck {
    std::string status;
    std::string record;
    std::string policy, subdomainPolicy, adkim = "r", aspf = "r"; ///< as receivers apply them
    /// False when p= (or sp=) is missing or not none, quarantine or reject: RFC 7489 6.6.3 then
    /// makes it p=none when the record has a rua= address, else no DMARC at all (policy empty).
    bool valid = true;
    std::string problem; ///< why the record is invalid
    int pct = 100;
    std::string ignoredPct; ///< a pct= value that is not 0-100, replaced by 100 as receivers do
    std::vector<std::string> rua;
    std::string foundAt; ///< "_dmarc.example.com", empty when none found
    bool organizational = false; ///< found at the organisational domain, not the exact name
    CheckSource source;
    std::string sentence;
};

struct MxHost {
    int preference = 0;
    std::string host;
};

struct MxCheck {
    std::string status;
    std::vector<MxHost> hosts; ///< sorted by preference, then name
    bool nullMx = false; ///< RFC 7505 "0 ." : the domain accepts no mail
    CheckSource source;
    std::string sentence;
};

struct PtrCheck {
    std::string status;
    std::vector<std::string> names;
    bool forwardConfirmed = false; ///< an A/AAAA record of a PTR name is the IP
    CheckSource source;
    std::string sentence;
};

struct DkimCheck {
    std::string selector;
    std::string name; ///< <selector>._domainkey.<domain>
    std::string status;
    bool found = false; ///< a DKIM key record (v=DKIM1 or p=) is there
    bool revoked = false; ///< p= is empty
    std::string keyType; ///< rsa, ed25519
    int keyBits = 0; ///< 0 when unknown
    bool keyValid = false; ///< p= is base64 of a key of its type (an RSA public key, 32 bytes of ed25519)
    std::string problem; ///< why the key cannot be used, or is too short
    std::string record;
    CheckSource source;
    std::string sentence;
};

struct BlocklistCheck {
    std::string list; ///< name from the table, or the zone when it is not in the table
    std::string zone;
    std::string kind; ///< ip or domain
    std::string query; ///< the name asked
    /// ok, none, nxdomain, servfail, timeout, error — or untrusted: not listed, but the resolver
    /// did not list the list's test entry either, so "not listed" means nothing.
    std::string status;
    bool listed = false;
    std::vector<std::string> codes; ///< A records answered
    std::string meaning; ///< the codes' meanings, joined
    std::string delistUrl;
    std::string testQuery; ///< the test entry asked (2.0.0.127.<zone>, dbltest.com.<zone>)
    bool testListed = false; ///< the resolver listed the test entry: its answers can be trusted
    CheckSource source;
    std::string sentence;
};

/// Everything one run found. A check that did not apply (no IP given, say) is absent.
struct CheckReport {
    std::string domain;
    std::string ip;
    std::string server;
    std::int64_t startedAt = 0; ///< unix seconds
    int durationMs = 0;
    int liveQueries = 0; ///< DNS questions sent (the rest came from the cache)
    bool cancelled = false;
    bool deadlineReached = false;
    std::string error; ///< the run could not start (bad server address …)
    std::optional<SpfCheck> spf;
    std::optional<DmarcCheck> dmarc;
    std::optional<MxCheck> mx;
    std::optional<PtrCheck> ptr;
    std::vector<DkimCheck> dkim;
    std::vector<BlocklistCheck> blocklists;
    std::vector<std::string> findings; ///< one human sentence per finding, most important first
};

/// Runs the DNS checks that fit the request. Never throws for DNS trouble: every failure is a
/// status in the report; the run ends by options.deadlineMs at the latest.
CheckReport runChecks(const CheckRequest& request, const CheckOptions& options);

/// The report as one JSON object (the keys `bouncetriage-cli check --json` documents).
std::string toJson(const CheckReport& report);

/// Which checks fit a diagnosis: "spf", "dkim", "dmarc", "ptr", "blocklists", "mx" — auth
/// and reputation families get them, an unknown-host bounce gets "mx", others none.
std::vector<std::string> checksOffered(const Diagnosis& diagnosis);

/// The dns_cache table (workspace schema step 2) as a resolver cache; for tests and the UI.
std::int64_t cachedAnswerCount(Workspace& workspace);
/// The workspace's dns_cache table (answers kept for their TTL) as a resolver cache, for other
/// lookups than the checks (bt::lookUpProviders). Lives no longer than `workspace`.
std::unique_ptr<dns::Cache> workspaceDnsCache(Workspace& workspace);

} // namespace bt
