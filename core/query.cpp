// SPDX-License-Identifier: MIT
// The query layer under the triage window and the CLI: filters become SQL, SQL sorts, counts and
// pages, results come back as value structs. Nothing here holds state between calls.
#include "query.h"

#include "analysis.h"
#include "dmarcmatch.h"
#include "fields.h"
#include "sqlite.h"
#include "text.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <unordered_map>

namespace bt
{
namespace
{

void addIn(std::string& where, std::vector<FilterSql::Value>& binds, const std::string& column,
           const std::vector<std::string>& values)
{
    if (values.empty())
        return;
    std::string list;
    bool none = false;
    for (const auto& v : values) {
        if (v == "(none)") {
            none = true;
            continue;
        }
        list += list.empty() ? "?" : ",?";
        binds.emplace_back(v);
    }
    std::string term;
    if (!list.empty())
        term = std::string(column) + " IN (" + list + ")";
    if (none)
        term += std::string(term.empty() ? "" : " OR ") + "COALESCE(" + column + ", '') = ''";
    where += " AND (" + term + ")";
}

/// A full-text search split as SQL runs it: the trigram index's query, and LIKE patterns for the
/// words too short for a trigram.
struct SearchWords {
    std::string fts; ///< FTS5 strings, one per word of three characters or more; empty: none
    std::vector<std::string> folded; ///< the same words case-folded, for the rows the index lacks
    std::vector<std::string> likes;
};

SearchWords searchWords(const std::string& text)
{
    // Every whitespace-separated word must occur somewhere in the reply, as written: a part
    // of a word too ("S3150" in "(AS3150)"), any case, quotes as plain characters (the
    // search is not a query language, so no input is ever a syntax error). Words of
    // three characters or more go through the trigram index, each one an FTS5 string
    // (quotes doubled); shorter ones, which no trigram holds, through LIKE.
    SearchWords out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
            ++i;
        std::size_t j = i;
        while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])))
            ++j;
        if (j == i)
            break;
        std::string word = text.substr(i, j - i);
        i = j;
        // "spam*" as people type it: every match is a substring match already.
        while (word.size() > 1 && word.back() == '*')
            word.pop_back();
        std::size_t letters = 0; // UTF-8 code points: trigrams are of characters
        for (const char c : word)
            letters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        if (letters >= 3) {
            std::string quoted = "\"";
            for (const char c : word) {
                quoted += c;
                if (c == '"')
                    quoted += '"';
            }
            out.fts += (out.fts.empty() ? "" : " ") + quoted + "\"";
            out.folded.push_back(text::foldCase(word));
        } else {
            std::string like = "%";
            for (const char c : word) {
                if (c == '%' || c == '_' || c == '\\')
                    like += '\\';
                like += c;
            }
            out.likes.push_back(like + "%");
        }
    }
    return out;
}

/// The events a bulk load added that the search index does not hold yet (Workspace::beginBulkLoad):
/// a load's rows are always the highest ids, so they are those above the index's highest rowid
/// (its docsize table holds a row per indexed event, NULL replies too). None, a range seek that
/// finds nothing, once the load has ended; the shadow table exists in every schema's index.
constexpr const char* kUnindexed
    = "SELECT id FROM events WHERE id > (SELECT COALESCE(MAX(id), 0) FROM events_fts_docsize)";

/// The conditions on those rows' replies that the index's MATCH states for the others: each word
/// anywhere in the reply, case folded as the trigram tokenizer folds it.
std::string unindexedMatch(const SearchWords& words)
{
    std::string sql = kUnindexed;
    for (std::size_t i = 0; i < words.folded.size(); ++i)
        sql += " AND instr(bt_fold(reply_text), ?) > 0";
    return sql;
}

/// The words of a full-text search as terms over `column` (see filterSql).
void addWords(std::string& where, std::vector<FilterSql::Value>& binds, const std::string& column,
              const std::string& text)
{
    const SearchWords words = searchWords(text);
    for (const auto& like : words.likes) {
        where += " AND " + column + " LIKE ? ESCAPE '\\'";
        binds.emplace_back(like);
    }
    // The trigram index (events_fts, workspace.cpp) holds the replies: a second searched field
    // would need its own.
    if (!words.fts.empty()) {
        where += " AND e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ? UNION ALL "
            + unindexedMatch(words) + ")";
        binds.emplace_back(words.fts);
        for (const auto& w : words.folded)
            binds.emplace_back(w);
    }
}

const char* sortExpression(EventColumn c)
{
    switch (c) {
    case EventColumn::Time:
        return "e.timestamp";
    case EventColumn::Recipient:
        return "e.recipient";
    case EventColumn::Provider:
        return "e.provider";
    case EventColumn::Domain:
        return "e.recipient_domain";
    case EventColumn::Codes:
        return "e.basic_code";
    case EventColumn::Family:
        return "e.family";
    case EventColumn::Reason:
        return "e.reason";
    case EventColumn::SpamRelated:
        return "e.spam_related";
    case EventColumn::Action:
        return "e.action";
    case EventColumn::Ip:
        return "e.sending_ip";
    case EventColumn::Campaign:
        return "e.campaign";
    case EventColumn::Reply:
        return "e.reply_text";
    case EventColumn::Type:
        return "e.event_type";
    }
    return "e.timestamp";
}

constexpr const char* kRowColumns
    = "e.id, COALESCE(e.timestamp, ''), e.event_type, COALESCE(e.recipient, ''), COALESCE(e.provider, ''), "
      "COALESCE(e.recipient_domain, ''), e.basic_code, COALESCE(e.enhanced_code, ''), COALESCE(e.family, ''), "
      "COALESCE(e.reason, ''), COALESCE(e.spam_related, ''), COALESCE(e.action, ''), COALESCE(e.sending_ip, ''), "
      "COALESCE(e.campaign, ''), COALESCE(e.reply_text, ''), COALESCE(e.remote_mta, '')";
/// How many columns kRowColumns selects (readRow reads them all; details read on from here).
constexpr int kRowColumnCount = 16;

EventRow readRow(const sql::Statement& st)
{
    EventRow r;
    r.id = st.int64(0);
    r.timestamp = st.text(1);
    r.eventType = st.text(2);
    r.recipient = st.text(3);
    r.provider = st.text(4);
    r.domain = st.text(5);
    if (!st.isNull(6))
        r.basicCode = static_cast<int>(st.int64(6));
    r.enhancedCode = st.text(7);
    r.family = st.text(8);
    r.reason = st.text(9);
    r.spamRelated = st.text(10);
    r.action = st.text(11);
    r.ip = st.text(12);
    r.campaign = st.text(13);
    r.reply = st.text(14);
    r.remoteMta = st.text(15);
    return r;
}

std::string whereOf(const FilterSql& f)
{
    return " WHERE (" + f.population + ") AND (" + f.bounce + ")";
}

int bindFilter(sql::Statement& st, const FilterSql& f)
{
    const int next = bindAll(st, 1, f.populationBinds);
    return bindAll(st, next, f.bounceBinds);
}

std::string shiftTime(const std::string& bucket, bool hourly, int steps)
{
    std::tm tm {};
    tm.tm_year = std::stoi(bucket.substr(0, 4)) - 1900;
    tm.tm_mon = std::stoi(bucket.substr(5, 2)) - 1;
    tm.tm_mday = std::stoi(bucket.substr(8, 2));
    tm.tm_hour = hourly ? std::stoi(bucket.substr(11, 2)) : 0;
    std::time_t t = timegm(&tm) + static_cast<std::time_t>(steps) * (hourly ? 3600 : 86400);
    std::tm out {};
    gmtime_r(&t, &out);
    char buf[32];
    std::strftime(buf, sizeof buf, hourly ? "%Y-%m-%dT%H" : "%Y-%m-%d", &out);
    return buf;
}

bool validBucket(const std::string& b)
{
    // "YYYY-MM-DD" or "YYYY-MM-DDTHH", digits where digits belong.
    if (b.size() != 10 && b.size() != 13)
        return false;
    for (std::size_t i = 0; i < b.size(); ++i) {
        const bool digit = b[i] >= '0' && b[i] <= '9';
        const bool sep = i == 4 || i == 7 || i == 10;
        if (sep != !digit)
            return false;
    }
    return b[4] == '-' && b[7] == '-' && (b.size() == 10 || b[10] == 'T');
}

} // namespace

bool EventFilter::empty() const
{
    return *this == EventFilter {};
}

FilterSql filterSql(const EventFilter& f)
{
    FilterSql out;
    std::string pop, bounce;
    // One term per field that filters, in table order, so the parameters follow the terms.
    for (const Field& field : kFields) {
        if (!isSet(f, field))
            continue;
        std::string& where = field.population ? pop : bounce;
        auto& binds = field.population ? out.populationBinds : out.bounceBinds;
        const std::string column = "e." + std::string(field.column);
        const std::vector<std::string> values = valuesOf(f, field);
        switch (field.match) {
        case FieldMatch::Any:
            addIn(where, binds, column, values);
            break;
        case FieldMatch::Equal:
            where += " AND " + column + " = ?";
            // Numbers bound as numbers: an INTEGER column compares unequal to the text "550".
            if (field.kind == FieldKind::Text)
                binds.emplace_back(values.front());
            else
                binds.emplace_back(static_cast<std::int64_t>(std::stoll(values.front())));
            break;
        case FieldMatch::Prefix: {
            // "5.7" is a class and subject prefix; a full code matches exactly.
            const std::string& code = values.front();
            const bool full = std::count(code.begin(), code.end(), '.') >= 2;
            where
                += full ? " AND " + column + " = ?" : " AND (" + column + " = ? OR " + column + " LIKE ? ESCAPE '\\')";
            binds.emplace_back(code);
            if (!full) {
                std::string like;
                for (char c : code) {
                    if (c == '%' || c == '_' || c == '\\')
                        like.push_back('\\');
                    like.push_back(c);
                }
                binds.emplace_back(like + ".%");
            }
            break;
        }
        case FieldMatch::Range:
            if (!values[0].empty()) {
                where += " AND " + column + " >= ?";
                binds.emplace_back(values[0]);
            }
            if (!values[1].empty()) {
                where += " AND " + column + " < ?";
                binds.emplace_back(values[1]);
            }
            break;
        case FieldMatch::Words:
            addWords(where, binds, column, values.front());
            break;
        }
    }
    if (!pop.empty())
        out.population = pop.substr(5);
    if (!bounce.empty())
        out.bounce = bounce.substr(5);
    return out;
}

int bindAll(sql::Statement& st, int first, const std::vector<FilterSql::Value>& values)
{
    int i = first;
    for (const auto& v : values) {
        if (const auto* n = std::get_if<std::int64_t>(&v))
            st.bind(i++, *n);
        else
            st.bind(i++, std::string_view(std::get<std::string>(v)));
    }
    return i;
}

std::string countedBounces(const EventFilter& filter, const FilterSql& f)
{
    // Bounces, unless the filter names the event types itself (deferrals, complaints…).
    return (filter.eventTypes.empty() ? "e.event_type = 'bounce' AND (" : "e.event_type <> 'delivered' AND (")
        + f.bounce + ")";
}

std::int64_t countEvents(Workspace& ws, const EventFilter& filter)
{
    const auto f = filterSql(filter);
    auto st = ws.db().prepare("SELECT COUNT(*) FROM events e" + whereOf(f));
    bindFilter(st, f);
    return st.step() ? st.int64(0) : 0;
}

namespace
{

/// The ORDER BY of the table: the sorted column, codes by their enhanced part too, ties by id.
std::string tableOrder(EventColumn sort, bool descending)
{
    const char* dir = descending ? " DESC" : " ASC";
    std::string order = std::string(sortExpression(sort)) + dir;
    if (sort == EventColumn::Codes)
        order += std::string(", e.enhanced_code") + dir;
    return order + ", e.id" + dir;
}

} // namespace

std::vector<EventRow> eventPage(Workspace& ws, const EventFilter& filter, EventColumn sort, bool descending,
                                std::int64_t offset, int limit)
{
    const auto f = filterSql(filter);
    const std::string order = tableOrder(sort, descending);
    // The page's ids are sorted first, the row's columns read for those alone: a sort that
    // cannot follow an index carries only the sort key and the id through its temporary
    // B-tree, not every reply text (a full-text search page on 1M events: 550 -> 310 ms).
    auto st = ws.db().prepare(std::string("SELECT ") + kRowColumns
                              + " FROM events e WHERE e.id IN (SELECT e.id FROM events e" + whereOf(f) + " ORDER BY "
                              + order + " LIMIT ? OFFSET ?) ORDER BY " + order);
    const int next = bindFilter(st, f);
    st.bind(next, static_cast<std::int64_t>(limit)).bind(next + 1, offset);
    std::vector<EventRow> rows;
    rows.reserve(static_cast<std::size_t>(limit));
    while (st.step())
        rows.push_back(readRow(st));
    return rows;
}

std::vector<std::int64_t> eventIds(Workspace& ws, const EventFilter& filter, EventColumn sort, bool descending)
{
    const auto f = filterSql(filter);
    auto st = ws.db().prepare("SELECT e.id FROM events e" + whereOf(f) + " ORDER BY " + tableOrder(sort, descending));
    bindFilter(st, f);
    std::vector<std::int64_t> ids;
    while (st.step())
        ids.push_back(st.int64(0));
    return ids;
}

std::vector<std::int64_t> matchingIds(Workspace& ws, const std::string& text)
{
    const SearchWords words = searchWords(text);
    std::vector<std::int64_t> ids;
    if (words.likes.empty() && !words.fts.empty()) {
        // The index alone: no event is read. Its rowids are the events' ids (the triggers keep
        // it in step); one it holds for no event is left out by the caller, as SQL's IN does.
        auto st = ws.db().prepare("SELECT rowid FROM events_fts WHERE events_fts MATCH ? ORDER BY rowid");
        st.bind(1, std::string_view(words.fts));
        while (st.step())
            ids.push_back(st.int64(0));
        // Then the rows a bulk load has not indexed yet, all above those.
        auto gap = ws.db().prepare(unindexedMatch(words) + " ORDER BY id");
        int i = 0;
        for (const auto& w : words.folded)
            gap.bind(++i, std::string_view(w));
        while (gap.step())
            ids.push_back(gap.int64(0));
        return ids;
    }
    EventFilter f;
    f.text = text;
    const auto sql = filterSql(f);
    auto st = ws.db().prepare("SELECT e.id FROM events e WHERE " + sql.bounce + " ORDER BY e.id");
    bindAll(st, 1, sql.bounceBinds);
    while (st.step())
        ids.push_back(st.int64(0));
    return ids;
}

std::vector<EventRow> eventRows(Workspace& ws, std::span<const std::int64_t> ids)
{
    if (ids.empty())
        return {};
    // One statement for the whole slice: the ids travel as a JSON array (SQLite's json_each).
    std::string list = "[";
    for (const auto id : ids) {
        if (list.size() > 1)
            list += ',';
        list += std::to_string(id);
    }
    list += ']';
    auto st = ws.db().prepare(std::string("SELECT ") + kRowColumns
                              + " FROM events e WHERE e.id IN (SELECT value FROM json_each(?))");
    st.bind(1, list);
    std::unordered_map<std::int64_t, EventRow> byId;
    byId.reserve(ids.size());
    while (st.step()) {
        EventRow r = readRow(st);
        const auto id = r.id;
        byId.emplace(id, std::move(r));
    }
    std::vector<EventRow> rows;
    rows.reserve(ids.size());
    for (const auto id : ids)
        if (auto it = byId.find(id); it != byId.end())
            rows.push_back(std::move(it->second));
    return rows;
}

std::optional<EventDetail> eventDetail(Workspace& ws, std::int64_t id)
{
    auto st = ws.db().prepare(
        std::string("SELECT ") + kRowColumns
        + ", COALESCE(e.source, ''), COALESCE(e.envelope_sender, ''), COALESCE(e.from_domain, ''), "
          "COALESCE(e.message_id, ''), COALESCE(e.remote_mta, ''), COALESCE(e.smtp_stage, ''), "
          "COALESCE(e.reason_hint, ''), e.hard_bounce, e.filtering_gateway, COALESCE(e.rule_ids, ''), "
          "COALESCE(e.evidence, '[]'), COALESCE(e.template_id, 0), COALESCE(t.text, ''), e.import_id, "
          "COALESCE(e.source_file, ''), COALESCE(e.source_line, 0), COALESCE(e.source_offset, -1), "
          "COALESCE(e.raw, ''), COALESCE(i.format, ''), COALESCE(e.original_recipient, '') FROM events e LEFT JOIN "
          "templates t ON t.id = e.template_id "
          "LEFT JOIN imports i ON i.id = e.import_id WHERE e.id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    EventDetail d;
    d.row = readRow(st);
    int c = kRowColumnCount;
    d.source = st.text(c++);
    d.envelopeSender = st.text(c++);
    d.fromDomain = st.text(c++);
    d.messageId = st.text(c++);
    d.remoteMta = st.text(c++);
    d.smtpStage = st.text(c++);
    d.reasonHint = st.text(c++);
    d.hardBounce = st.int64(c++) != 0;
    d.filteringGateway = st.int64(c++) != 0;
    d.ruleIds = st.text(c++);
    d.evidenceJson = st.text(c++);
    d.templateId = st.int64(c++);
    d.templateText = st.text(c++);
    d.importId = st.int64(c++);
    d.sourceFile = st.text(c++);
    d.sourceLine = st.int64(c++);
    d.sourceOffset = st.int64(c++);
    d.raw = st.text(c++);
    d.importFormat = st.text(c++);
    d.originalRecipient = st.text(c++);
    // An authentication or policy refusal is set beside what the receivers' aggregate reports saw
    // of the same traffic that day (the sending IP, else the From domain).
    if (dmarcRelevant(d.row.family) && d.row.eventType != "delivered")
        d.dmarc = dmarcForBounce(ws, d.row.ip, d.fromDomain, d.row.timestamp);
    return d;
}

std::vector<TimeBucket> timeSeries(Workspace& ws, const EventFilter& filter, bool hourly)
{
    const auto f = filterSql(filter);
    const std::string bucket = hourly ? "substr(e.timestamp, 1, 13)" : "substr(e.timestamp, 1, 10)";
    // Deliveries follow the population only: a family or code filter narrows the bounces, not
    // the traffic they are a share of.
    auto st = ws.db().prepare("SELECT " + bucket
                              + ", e.event_type, COALESCE(e.family, 'unknown'), COUNT(*) FROM events e "
                                "WHERE e.timestamp IS NOT NULL AND ("
                              + f.population + ") AND (e.event_type = 'delivered' OR (" + countedBounces(filter, f)
                              + ")) GROUP BY 1, 2, 3 ORDER BY 1");
    bindFilter(st, f);
    std::vector<TimeBucket> out;
    while (st.step()) {
        const std::string b = st.text(0);
        if (!validBucket(b))
            continue;
        // Fill the hours or days without traffic so the axis is even.
        while (!out.empty() && out.back().bucket != b) {
            const std::string next = shiftTime(out.back().bucket, hourly, 1);
            if (next >= b)
                break;
            out.push_back({next, 0, 0, {}});
        }
        if (out.empty() || out.back().bucket != b)
            out.push_back({b, 0, 0, {}});
        auto& cell = out.back();
        const auto n = st.int64(3);
        if (st.text(1) == "delivered") {
            cell.deliveries += n;
        } else {
            cell.bounces += n;
            cell.families[st.text(2)] += n;
        }
    }
    return out;
}

bool preferHourly(Workspace& ws, const EventFilter& filter, int maxHours)
{
    const auto f = filterSql(filter);
    auto st = ws.db().prepare("SELECT MIN(e.timestamp), MAX(e.timestamp) FROM events e" + whereOf(f));
    bindFilter(st, f);
    if (!st.step() || st.isNull(0))
        return true;
    const std::string a = st.text(0), b = st.text(1);
    if (a.size() < 13 || b.size() < 13 || !validBucket(a.substr(0, 13)) || !validBucket(b.substr(0, 13)))
        return false;
    return shiftTime(a.substr(0, 13), true, maxHours) >= b.substr(0, 13);
}

std::vector<std::string> distinctValues(Workspace& ws, const std::string& field, int limit)
{
    // The fields filtered by a list of values: the ones a filter list offers choices for.
    const Field* f = fieldById(field);
    if (!f || f->match != FieldMatch::Any)
        return {};
    const std::string column(f->column);
    auto st = ws.db().prepare("SELECT " + column + ", COUNT(*) FROM events WHERE COALESCE(" + column
                              + ", '') <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?");
    st.bind(1, static_cast<std::int64_t>(limit));
    std::vector<std::string> out;
    while (st.step())
        out.push_back(st.text(0));
    return out;
}

namespace
{

} // namespace

std::string csvEscape(std::string_view v)
{
    // RFC 4180: quote when a separator, quote or line break is inside; double the quotes.
    if (v.find_first_of(",\"\r\n") == std::string_view::npos)
        return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        if (c == '"')
            out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

std::int64_t writeSuppressionsCsv(Workspace& ws, std::ostream& out)
{
    return writeSuppressionsCsv(ws, EventFilter {}, out);
}

std::int64_t writeEventsCsv(Workspace& ws, const EventFilter& filter, std::ostream& out)
{
    out << "timestamp,event_type,recipient,provider,recipient_domain,basic_code,enhanced_code,family,reason,"
           "spam_related,action,sending_ip,campaign,reply_text\r\n";
    const auto f = filterSql(filter);
    auto st = ws.db().prepare(std::string("SELECT ") + kRowColumns + " FROM events e" + whereOf(f)
                              + " ORDER BY e.timestamp, e.id");
    bindFilter(st, f);
    std::int64_t n = 0;
    while (st.step()) {
        const auto r = readRow(st);
        const std::string fields[]
            = {r.timestamp,    r.eventType, r.recipient,
               r.provider,     r.domain,    r.basicCode ? std::to_string(*r.basicCode) : std::string(),
               r.enhancedCode, r.family,    r.reason,
               r.spamRelated,  r.action,    r.ip,
               r.campaign,     r.reply};
        bool first = true;
        for (const auto& v : fields) {
            if (!first)
                out << ',';
            first = false;
            out << csvEscape(v);
        }
        out << "\r\n";
        ++n;
    }
    return n;
}

std::pair<std::string, std::string> bucketRange(const std::string& bucket)
{
    if (!validBucket(bucket))
        return {};
    const bool hourly = bucket.size() == 13;
    return {bucket, shiftTime(bucket, hourly, 1)};
}

std::pair<std::string, std::string> bucketTimes(const std::string& bucket)
{
    const auto [from, to] = bucketRange(bucket);
    if (from.empty())
        return {};
    const auto full = [](const std::string& b) { return b + (b.size() == 13 ? ":00:00Z" : "T00:00:00Z"); };
    return {full(from), full(to)};
}

} // namespace bt
