// SPDX-License-Identifier: MIT
// Reading the stored DMARC aggregate reports back (the import is importers/dmarc.cpp).
#include "dmarc.h"

#include "sqlite.h"
#include "workspace.h"

#include <map>

namespace bt
{

std::vector<DmarcSource> dmarcSources(Workspace& ws, const std::string& domain)
{
    // DMARC passes when either aligned identifier passes (RFC 7489 section 4.2): the
    // policy_evaluated results are the aligned ones. The last day is the day of the range's last
    // second, since receivers end a day's report at 23:59:59 or at the next midnight.
    auto st = ws.db().prepare(
        "SELECT w.source_ip, SUM(w.count), SUM(CASE WHEN w.dkim = 'pass' THEN w.count ELSE 0 END), "
        "SUM(CASE WHEN w.spf = 'pass' THEN w.count ELSE 0 END), "
        "SUM(CASE WHEN w.dkim = 'pass' OR w.spf = 'pass' THEN w.count ELSE 0 END), COUNT(DISTINCT r.id), "
        "MIN(date(r.date_begin)), MAX(date(r.date_end, '-1 second')) "
        "FROM dmarc_rows w JOIN dmarc_reports r ON r.id = w.report WHERE (?1 = '' OR r.domain = ?1) "
        "GROUP BY w.source_ip ORDER BY 2 DESC, 1");
    st.bind(1, std::string_view(domain));
    std::vector<DmarcSource> out;
    while (st.step()) {
        DmarcSource s;
        s.sourceIp = st.text(0);
        s.messages = st.int64(1);
        s.dkimPass = st.int64(2);
        s.spfPass = st.int64(3);
        s.dmarcPass = st.int64(4);
        s.reports = st.int64(5);
        s.firstDay = st.text(6);
        s.lastDay = st.text(7);
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<DmarcReport> dmarcReports(Workspace& ws)
{
    std::vector<DmarcReport> out;
    std::map<std::int64_t, std::size_t> byId;
    {
        auto st = ws.db().prepare(
            "SELECT id, COALESCE(version, ''), org_name, COALESCE(email, ''), COALESCE(extra_contact_info, ''), "
            "report_id, date_begin, date_end, domain, COALESCE(adkim, ''), COALESCE(aspf, ''), COALESCE(p, ''), "
            "COALESCE(sp, ''), COALESCE(fo, ''), pct, COALESCE(np, ''), COALESCE(testing, ''), "
            "COALESCE(discovery_method, ''), COALESCE(source_file, '') FROM dmarc_reports ORDER BY org_name, "
            "report_id");
        while (st.step()) {
            DmarcReport r;
            int i = 1;
            for (auto* t : {&r.version, &r.orgName, &r.email, &r.extraContactInfo, &r.reportId, &r.begin, &r.end,
                            &r.domain, &r.adkim, &r.aspf, &r.p, &r.sp, &r.fo})
                *t = st.text(i++);
            if (!st.isNull(i))
                r.pct = static_cast<int>(st.int64(i));
            ++i;
            for (auto* t : {&r.np, &r.testing, &r.discoveryMethod, &r.sourceFile})
                *t = st.text(i++);
            byId[st.int64(0)] = out.size();
            out.push_back(std::move(r));
        }
    }
    std::map<std::int64_t, std::pair<std::size_t, std::size_t>> rowAt; // row id → report, row
    {
        auto st = ws.db().prepare(
            "SELECT id, report, source_ip, count, COALESCE(disposition, ''), COALESCE(dkim, ''), COALESCE(spf, ''), "
            "COALESCE(reasons, ''), COALESCE(header_from, ''), COALESCE(envelope_from, ''), "
            "COALESCE(envelope_to, ''), COALESCE(source_line, 0) FROM dmarc_rows ORDER BY id");
        while (st.step()) {
            const auto it = byId.find(st.int64(1));
            if (it == byId.end())
                continue;
            DmarcRow w;
            w.sourceIp = st.text(2);
            w.count = st.int64(3);
            int i = 4;
            for (auto* t : {&w.disposition, &w.dkim, &w.spf, &w.reasons, &w.headerFrom, &w.envelopeFrom, &w.envelopeTo})
                *t = st.text(i++);
            w.line = st.int64(i);
            auto& rows = out[it->second].rows;
            rowAt[st.int64(0)] = {it->second, rows.size()};
            rows.push_back(std::move(w));
        }
    }
    auto st = ws.db().prepare("SELECT row_id, method, COALESCE(domain, ''), COALESCE(selector, ''), "
                              "COALESCE(scope, ''), COALESCE(result, ''), COALESCE(human_result, '') FROM dmarc_auth "
                              "ORDER BY row_id, seq");
    while (st.step()) {
        const auto it = rowAt.find(st.int64(0));
        if (it == rowAt.end())
            continue;
        DmarcAuth a;
        int i = 1;
        for (auto* t : {&a.method, &a.domain, &a.selector, &a.scope, &a.result, &a.humanResult})
            *t = st.text(i++);
        out[it->second.first].rows[it->second.second].auth.push_back(std::move(a));
    }
    return out;
}

} // namespace bt
