// SPDX-License-Identifier: MIT
// A bounce beside the receivers' DMARC aggregate reports (see dmarcmatch.h).
#include "dmarcmatch.h"

#include "sqlite.h"
#include "text.h"
#include "workspace.h"

#include <ctime>

namespace bt
{

bool dmarcRelevant(std::string_view family)
{
    return family == "auth" || family == "policy";
}

std::vector<DmarcMatch> dmarcForBounce(Workspace& ws, std::string_view sendingIp, std::string_view fromDomain,
                                       std::string_view timestamp, int limit)
{
    std::vector<DmarcMatch> out;
    const bool byIp = !sendingIp.empty();
    if (timestamp.empty() || (!byIp && fromDomain.empty()) || limit <= 0)
        return out;
    // A report covers [date_begin, date_end]; receivers end a day at 23:59:59 or at the next
    // midnight, so both ends are taken. Failing rows first: they are the evidence people look for.
    auto st = ws.db().prepare(
        "SELECT r.org_name, r.report_id, r.date_begin, r.date_end, r.domain, w.id, w.source_ip, w.count, "
        "COALESCE(w.disposition, ''), COALESCE(w.dkim, ''), COALESCE(w.spf, ''), COALESCE(w.reasons, ''), "
        "COALESCE(w.header_from, ''), COALESCE(w.envelope_from, ''), COALESCE(w.envelope_to, '') "
        "FROM dmarc_rows w JOIN dmarc_reports r ON r.id = w.report "
        "WHERE r.date_begin <= ?1 AND ?1 <= r.date_end AND "
        + std::string(byIp ? "w.source_ip = ?2" : "w.header_from = ?2 COLLATE NOCASE")
        + " ORDER BY (w.dkim = 'pass' OR w.spf = 'pass'), w.count DESC, r.org_name, w.id LIMIT ?3");
    st.bind(1, timestamp).bind(2, byIp ? sendingIp : fromDomain).bind(3, limit);
    std::vector<std::int64_t> rowIds;
    while (st.step()) {
        DmarcMatch m;
        m.orgName = st.text(0);
        m.reportId = st.text(1);
        m.begin = st.text(2);
        m.end = st.text(3);
        m.policyDomain = st.text(4);
        rowIds.push_back(st.int64(5));
        m.row.sourceIp = st.text(6);
        m.row.count = st.int64(7);
        m.row.disposition = st.text(8);
        m.row.dkim = st.text(9);
        m.row.spf = st.text(10);
        m.row.reasons = st.text(11);
        m.row.headerFrom = st.text(12);
        m.row.envelopeFrom = st.text(13);
        m.row.envelopeTo = st.text(14);
        m.byIp = byIp;
        out.push_back(std::move(m));
    }
    auto auth = ws.db().prepare("SELECT method, COALESCE(domain, ''), COALESCE(selector, ''), COALESCE(scope, ''), "
                                "COALESCE(result, ''), COALESCE(human_result, '') FROM dmarc_auth WHERE row_id = ? "
                                "ORDER BY seq");
    for (std::size_t i = 0; i < out.size(); ++i) {
        auth.reset();
        auth.bind(1, rowIds[i]);
        while (auth.step())
            out[i].row.auth.push_back(
                {auth.text(0), auth.text(1), auth.text(2), auth.text(3), auth.text(4), auth.text(5)});
    }
    return out;
}

namespace
{

/// "DKIM pass and aligned", "DKIM fail (example.com, selector s1)", "DKIM pass for
/// esp.example.net but not aligned", "no DKIM signature".
std::string dkimWords(const DmarcRow& row)
{
    if (row.dkim == "pass")
        return "DKIM pass and aligned";
    std::string out;
    for (const auto& a : row.auth) {
        if (a.method != "dkim")
            continue;
        out += out.empty() ? "DKIM " : "; DKIM ";
        out += a.result.empty() ? "without a result" : a.result;
        if (a.result == "pass")
            out += " for " + a.domain + " but not aligned";
        else if (!a.domain.empty())
            out += " (" + a.domain + (a.selector.empty() ? "" : ", selector " + a.selector) + ")";
    }
    if (out.empty())
        return row.dkim.empty() ? "no DKIM result" : "DKIM " + row.dkim + " (no signature reported)";
    return out;
}

/// "SPF pass and aligned", "SPF pass for bounces.example.net but not aligned", "SPF fail
/// (example.com)".
std::string spfWords(const DmarcRow& row)
{
    if (row.spf == "pass")
        return "SPF pass and aligned";
    for (const auto& a : row.auth) {
        if (a.method != "spf" || (a.scope == "helo" && row.auth.size() > 1))
            continue;
        if (a.result == "pass")
            return "SPF pass for " + a.domain + " but not aligned";
        return "SPF " + (a.result.empty() ? std::string("without a result") : a.result)
            + (a.domain.empty() ? std::string() : " (" + a.domain + ")");
    }
    return row.spf.empty() ? "no SPF result" : "SPF " + row.spf;
}

/// Seconds since the epoch of an ISO 8601 UTC time ("2025-03-11T00:00:00Z"); -1 when unreadable.
std::int64_t epochOf(const std::string& iso)
{
    std::tm tm {};
    if (iso.size() < 19 || !strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm))
        return -1;
    return static_cast<std::int64_t>(timegm(&tm));
}

} // namespace

std::string describeDmarcMatch(const DmarcMatch& m)
{
    // A daily report ends at the next midnight or at 23:59:59: one day. A longer one names the
    // day of its first and of its last second.
    const auto from = epochOf(m.begin), to = epochOf(m.end);
    std::string when = "On " + m.begin.substr(0, 10);
    if (from >= 0 && to > from + 86400)
        when = "From " + text::isoUtc(from).substr(0, 10) + " to " + text::isoUtc(to - 1).substr(0, 10);
    std::string out = when + ", " + m.orgName + "'s report shows " + std::to_string(m.row.count)
        + (m.row.count == 1 ? " message" : " messages") + " from " + m.row.sourceIp;
    if (!m.row.headerFrom.empty())
        out += " (From " + m.row.headerFrom + ")";
    out += ": " + dkimWords(m.row) + "; " + spfWords(m.row);
    const bool dmarcPass = m.row.dkim == "pass" || m.row.spf == "pass";
    out += dmarcPass ? "; DMARC pass" : "; DMARC fail";
    if (!m.row.disposition.empty())
        out += ", disposition " + m.row.disposition;
    return out + ".";
}

} // namespace bt
