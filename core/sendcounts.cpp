// SPDX-License-Identifier: MIT
#include "sendcounts.h"

#include "sqlite.h"
#include "text.h"

#include <algorithm>
#include <map>

namespace bt
{
namespace
{

/// One CSV line split at `sep`, double quotes removed ("" is a quote inside a quoted field).
std::vector<std::string> splitLine(std::string_view line, char sep)
{
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                out.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                out.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == sep) {
            out.emplace_back();
        } else {
            out.back() += c;
        }
    }
    return out;
}

bool isDay(const std::string& s)
{
    if (s.size() != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (s[i] < '0' || s[i] > '9')
            return false;
    const int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

} // namespace

SendCountsRead readSendCounts(std::istream& in, const std::string& source)
{
    SendCountsRead out;
    std::string line, kind;
    char sep = ',';
    int lineNo = 0;
    std::map<std::string, std::size_t> at; // key → index in out.counts
    while (std::getline(in, line)) {
        ++lineNo;
        if (lineNo == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0)
            line.erase(0, 3);
        if (text::trim(line).empty())
            continue;
        if (kind.empty()) {
            // The header: the kind, then "sent".
            for (const char c : {',', ';', '\t'})
                if (line.find(c) != std::string::npos) {
                    sep = c;
                    break;
                }
            const auto cols = splitLine(line, sep);
            const std::string first = cols.empty() ? std::string() : text::toLower(text::trim(cols[0]));
            const std::string second = cols.size() < 2 ? std::string() : text::toLower(text::trim(cols[1]));
            if (cols.size() != 2 || (first != "provider" && first != "campaign" && first != "day")
                || second != "sent") {
                out.errors.push_back("line " + std::to_string(lineNo)
                                     + ": the header must be \"provider,sent\", \"campaign,sent\" or \"day,sent\"");
                return out;
            }
            kind = first;
            continue;
        }
        const auto cols = splitLine(line, sep);
        const std::string where = "line " + std::to_string(lineNo) + ": ";
        if (cols.size() != 2) {
            out.errors.push_back(where + "expected 2 fields, found " + std::to_string(cols.size()));
            continue;
        }
        const std::string key = std::string(text::trim(cols[0])), number = std::string(text::trim(cols[1]));
        if (key.empty()) {
            out.errors.push_back(where + "no " + kind);
            continue;
        }
        if (kind == "day" && !isDay(key)) {
            out.errors.push_back(where + "\"" + key + "\" is not a day (YYYY-MM-DD)");
            continue;
        }
        std::int64_t sent = 0;
        bool ok = !number.empty() && number.size() <= 15;
        for (const char c : number) {
            ok = ok && c >= '0' && c <= '9';
            if (ok)
                sent = sent * 10 + (c - '0');
        }
        if (!ok) {
            out.errors.push_back(where + "\"" + number + "\" is not a whole number of messages sent");
            continue;
        }
        if (const auto it = at.find(key); it != at.end()) {
            out.counts[it->second].sent = sent;
            continue;
        }
        at.emplace(key, out.counts.size());
        out.counts.push_back({kind, key, sent, source});
    }
    if (kind.empty())
        out.errors.push_back("no header: the first line must be \"provider,sent\", \"campaign,sent\" or \"day,sent\"");
    return out;
}

std::int64_t storeSendCounts(Workspace& ws, const std::vector<SendCount>& counts)
{
    auto& db = ws.db();
    sql::Transaction tx(db);
    auto st
        = db.prepare("INSERT OR REPLACE INTO send_counts(kind, key, sent, source, added_at) VALUES (?, ?, ?, ?, ?)");
    // Providers are matched in any case ("gmail" is Gmail): a new count replaces the old one
    // however it was written.
    auto drop = db.prepare("DELETE FROM send_counts WHERE kind = 'provider' AND lower(key) = lower(?)");
    const std::string now = nowUtc();
    for (const auto& c : counts) {
        if (c.kind == "provider") {
            drop.bind(1, c.key);
            drop.run();
            drop.reset();
        }
        st.bind(1, c.kind).bind(2, c.key).bind(3, c.sent).bind(4, c.source).bind(5, now);
        st.run();
        st.reset();
    }
    tx.commit();
    return static_cast<std::int64_t>(counts.size());
}

std::vector<SendCount> sendCounts(Workspace& ws)
{
    std::vector<SendCount> out;
    if (ws.schemaVersion() < 5) // viewed as it is, never migrated by viewing
        return out;
    auto st = ws.db().prepare("SELECT kind, key, sent, source FROM send_counts ORDER BY kind, key");
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.int64(2), st.text(3)});
    return out;
}

std::int64_t clearSendCounts(Workspace& ws)
{
    auto& db = ws.db();
    sql::Transaction tx(db);
    std::int64_t n = 0;
    {
        auto st = db.prepare("SELECT COUNT(*) FROM send_counts");
        if (st.step())
            n = st.int64(0);
    }
    db.exec("DELETE FROM send_counts");
    tx.commit();
    return n;
}

} // namespace bt
