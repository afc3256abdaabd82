// SPDX-License-Identifier: MIT
// DMARC aggregate (rua) reports, RFC 7489 appendix C and the DMARCbis fields: what one report
// holds, how it is read from XML, and how the stored reports are read back. The import itself
// is core/importers/dmarc.cpp; the tables are the workspace's (schema 7).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

class Workspace;

/// One authentication result of a report row (<auth_results>): a DKIM signature (domain,
/// selector) or an SPF check (domain, scope mfrom/helo), as the receiver evaluated it.
struct DmarcAuth {
    std::string method; ///< "dkim" or "spf"
    std::string domain;
    std::string selector; ///< DKIM only
    std::string scope; ///< SPF only
    std::string result; ///< pass, fail, softfail, neutral, none, temperror, permerror, policy
    std::string humanResult;
    bool operator==(const DmarcAuth&) const = default;
};

/// One <record>: the messages of one source IP with the same identifiers and results.
struct DmarcRow {
    std::string sourceIp;
    std::int64_t count = 0;
    std::string disposition; ///< policy applied: none, quarantine, reject (DMARCbis: pass too)
    std::string dkim; ///< policy_evaluated: the aligned DKIM result (pass, fail)
    std::string spf; ///< policy_evaluated: the aligned SPF result (pass, fail)
    std::string reasons; ///< policy override reasons, "type: comment; …"
    std::string headerFrom, envelopeFrom, envelopeTo;
    std::vector<DmarcAuth> auth; ///< in document order
    std::int64_t line = 0; ///< the line of its <record> in the XML
    /// Why the row cannot be stored (no source IP, a count that is no number), empty when it can.
    std::string problem;
    bool operator==(const DmarcRow& o) const
    {
        return sourceIp == o.sourceIp && count == o.count && disposition == o.disposition && dkim == o.dkim
            && spf == o.spf && reasons == o.reasons && headerFrom == o.headerFrom && envelopeFrom == o.envelopeFrom
            && envelopeTo == o.envelopeTo && auth == o.auth;
    }
};

/// One aggregate report (<feedback>).
struct DmarcReport {
    std::string version;
    std::string orgName, email, extraContactInfo, reportId;
    std::string begin, end; ///< the date range, ISO 8601 UTC
    // policy_published
    std::string domain, adkim, aspf, p, sp, fo;
    std::optional<int> pct;
    std::string np, testing, discoveryMethod; ///< DMARCbis
    std::vector<DmarcRow> rows;
    std::string sourceFile; ///< the file (and entry or attachment) it came from
};

/// Why a document is no aggregate report we can store: not well-formed XML, another root
/// element, a required part missing. what() names the document and, where known, the line.
class DmarcError : public std::runtime_error
{
public:
    DmarcError(const std::string& what, std::int64_t line)
        : std::runtime_error(what)
        , m_line(line)
    {
    }
    std::int64_t line() const { return m_line; }

private:
    std::int64_t m_line;
};

/// Reads one report with libxml2's streaming reader from `read` (which fills a buffer and
/// returns the bytes given, 0 at the end, -1 on error). `name` names the document in errors.
/// Throws DmarcError. Rows that cannot be stored come back with their `problem`.
DmarcReport parseDmarcReport(const std::function<int(char*, int)>& read, const std::string& name);
DmarcReport parseDmarcReport(std::string_view xml, const std::string& name);

/// The local name of a document's root element when `head` (the start of a file) is XML: "feedback"
/// for an aggregate report; empty when it is no XML.
std::string xmlRootElement(std::string_view head);

/// What the reports say about one sending IP, over all reports (or those of one domain).
struct DmarcSource {
    std::string sourceIp;
    std::int64_t messages = 0; ///< sum of the rows' counts
    std::int64_t dkimPass = 0; ///< messages whose aligned DKIM passed (policy_evaluated)
    std::int64_t spfPass = 0; ///< messages whose aligned SPF passed
    std::int64_t dmarcPass = 0; ///< messages with either one passing: DMARC pass
    std::int64_t reports = 0; ///< reports naming the IP
    std::string firstDay, lastDay; ///< YYYY-MM-DD of the first report's begin and the last one's end
};

/// Per source IP, most messages first (then by IP). `domain` empty: every policy domain.
std::vector<DmarcSource> dmarcSources(Workspace& ws, const std::string& domain = {});

/// The stored reports with their rows and results, by org name and report id.
std::vector<DmarcReport> dmarcReports(Workspace& ws);

} // namespace bt
