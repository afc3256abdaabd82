// SPDX-License-Identifier: MIT
#include "cube.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <sqlite3.h>
#include <unordered_map>

namespace bt
{

struct EventCube::Match {
    /// Per field, the dictionary ids that pass; empty means the field does not filter.
    std::array<std::vector<char>, FieldCount> allowed;
    std::optional<int> code;
    std::optional<std::int64_t> templateId;
    bool needText = false;
    bool typesNamed = false;

    bool pass(Field field, std::uint32_t id) const
    {
        const auto& a = allowed[field];
        return a.empty() || a[id];
    }
    bool population(const Cell& c) const
    {
        return pass(Hour, c.f[Hour]) && pass(Provider, c.f[Provider]) && pass(Domain, c.f[Domain]) && pass(Ip, c.f[Ip])
            && pass(Campaign, c.f[Campaign]);
    }
    bool bounce(const Cell& c) const
    {
        return pass(Type, c.f[Type]) && pass(Family, c.f[Family]) && pass(Reason, c.f[Reason]) && pass(Spam, c.f[Spam])
            && pass(Enhanced, c.f[Enhanced]) && (!code || c.code == *code)
            && (!templateId || c.templateId == *templateId) && (!needText || c.textMatch);
    }
};

namespace
{

/// A time bound as an hour bucket, when it lies on a whole hour ("2026-03-01",
/// "2026-03-01T04", "2026-03-01T04:00", "2026-03-01T04:00:00[Z]"); nullopt otherwise.
std::optional<std::string> hourOf(const std::string& t)
{
    if (t.size() == 10 && !bucketRange(t).first.empty())
        return t + "T00";
    if (t.size() < 13 || bucketRange(t.substr(0, 13)).first.empty())
        return std::nullopt;
    const std::string rest = t.substr(13);
    if (rest.empty() || rest == ":00" || rest == ":00:00" || rest == ":00:00Z")
        return t.substr(0, 13);
    return std::nullopt;
}

std::string orNone(const std::string& s)
{
    return s.empty() ? std::string("(none)") : s;
}

} // namespace

namespace
{

struct ViewHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view> {}(s); }
};

/// "YYYY-MM-DDTHH:…": hour bounds compare the same on the hour prefix as on the whole text.
bool canonicalTime(std::string_view t)
{
    if (t.size() < 14 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':')
        return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12})
        if (t[i] < '0' || t[i] > '9')
            return false;
    return true;
}

} // namespace

EventCube EventCube::build(Workspace& ws, const std::string& text)
{
    EventCube cube;
    cube.m_text = text;
    std::array<std::unordered_map<std::string, std::uint32_t, ViewHash, std::equal_to<>>, FieldCount> ids;
    const auto intern = [&](Field field, std::string_view s) {
        auto& map = ids[field];
        if (const auto it = map.find(s); it != map.end())
            return it->second;
        const auto id = static_cast<std::uint32_t>(cube.m_dict[field].size());
        cube.m_dict[field].emplace_back(s);
        map.emplace(std::string(s), id);
        return id;
    };
    // Empty (NULL) is id 0 everywhere, so "(none)" filters find it without a lookup.
    for (int f = 0; f < FieldCount; ++f)
        intern(static_cast<Field>(f), {});
    // One plain pass, aggregated here in a hash map: SQLite's GROUP BY over a dozen columns
    // would sort every row first.
    struct KeyHash {
        std::size_t operator()(const Cell& c) const noexcept
        {
            std::size_t h = std::hash<std::int64_t> {}(c.templateId) ^ (static_cast<std::size_t>(c.code) << 1)
                ^ (static_cast<std::size_t>(c.recording) << 20);
            for (auto v : c.f)
                h = h * 1000003u ^ v;
            return h;
        }
    };
    struct KeyEq {
        bool operator()(const Cell& a, const Cell& b) const noexcept
        {
            return a.f == b.f && a.code == b.code && a.templateId == b.templateId && a.textMatch == b.textMatch
                && a.recording == b.recording;
        }
    };
    std::unordered_map<Cell, std::size_t, KeyHash, KeyEq> at;
    // The text match comes from the same SQL the filter uses (FTS5 and its quoting), evaluated
    // once per row: SQLite runs the MATCH subquery once and probes its result.
    std::string match = "1";
    FilterSql textSql;
    if (!text.empty()) {
        EventFilter f;
        f.text = text;
        textSql = filterSql(f);
        match = textSql.bounce;
    }
    auto st = ws.db().prepare(
        "SELECT e.timestamp, e.provider, e.recipient_domain, e.sending_ip, e.campaign, e.event_type, e.family, "
        "e.reason, e.spam_related, e.enhanced_code, COALESCE(e.basic_code, -1), COALESCE(e.template_id, 0), ("
        + match + "), (e.import_id IN " + recordingImportsSql() + ") FROM events e");
    bindAll(st, 1, textSql.bounceBinds);
    while (st.step()) {
        Cell c;
        const std::string_view ts = st.textView(0);
        if (!ts.empty() && !canonicalTime(ts))
            cube.m_canonicalTimes = false;
        c.f[Hour] = intern(Hour, ts.substr(0, 13));
        for (int f = 1; f < FieldCount; ++f)
            c.f[static_cast<std::size_t>(f)] = intern(static_cast<Field>(f), st.textView(f));
        c.code = static_cast<std::int32_t>(st.int64(10));
        c.templateId = st.int64(11);
        c.textMatch = st.int64(12) != 0;
        c.recording = st.int64(13) != 0;
        auto [it, added] = at.try_emplace(c, cube.m_cells.size());
        if (added)
            cube.m_cells.push_back(c);
        ++cube.m_cells[it->second].n;
        ++cube.m_events;
    }
    auto t = ws.db().prepare("SELECT id, text FROM templates ORDER BY id");
    while (t.step())
        cube.m_templates.emplace_back(t.int64(0), t.text(1));
    return cube;
}

std::string EventCube::toJson() const
{
    nlohmann::json j;
    j["v"] = 2;
    j["canonical"] = m_canonicalTimes;
    j["events"] = m_events;
    auto dict = nlohmann::json::array();
    for (const auto& d : m_dict)
        dict.push_back(d);
    j["dict"] = std::move(dict);
    // Cells as flat rows of numbers: [f0..f9, code, template, n, recording].
    auto cells = nlohmann::json::array();
    for (const Cell& c : m_cells) {
        auto row = nlohmann::json::array();
        for (auto v : c.f)
            row.push_back(v);
        row.push_back(c.code);
        row.push_back(c.templateId);
        row.push_back(c.n);
        row.push_back(c.recording ? 1 : 0);
        cells.push_back(std::move(row));
    }
    j["cells"] = std::move(cells);
    auto templates = nlohmann::json::array();
    for (const auto& [id, text] : m_templates)
        templates.push_back({id, text});
    j["templates"] = std::move(templates);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<EventCube> EventCube::fromJson(const std::string& text)
{
    // A damaged or foreign cache is rebuilt, never trusted.
    try {
        const auto j = nlohmann::json::parse(text);
        if (j.at("v").get<int>() != 2) // 1: before the cells said which sources record deliveries
            return std::nullopt;
        EventCube cube;
        cube.m_canonicalTimes = j.at("canonical").get<bool>();
        cube.m_events = j.at("events").get<std::int64_t>();
        const auto& dict = j.at("dict");
        if (dict.size() != FieldCount)
            return std::nullopt;
        for (std::size_t f = 0; f < FieldCount; ++f)
            cube.m_dict[f] = dict[f].get<std::vector<std::string>>();
        for (const auto& row : j.at("cells")) {
            if (row.size() != FieldCount + 4)
                return std::nullopt;
            Cell c;
            for (std::size_t f = 0; f < FieldCount; ++f) {
                c.f[f] = row[f].get<std::uint32_t>();
                if (c.f[f] >= cube.m_dict[f].size())
                    return std::nullopt;
            }
            c.code = row[FieldCount].get<std::int32_t>();
            c.templateId = row[FieldCount + 1].get<std::int64_t>();
            c.n = row[FieldCount + 2].get<std::int64_t>();
            c.recording = row[FieldCount + 3].get<int>() != 0;
            cube.m_cells.push_back(c);
        }
        for (const auto& t : j.at("templates"))
            cube.m_templates.emplace_back(t.at(0).get<std::int64_t>(), t.at(1).get<std::string>());
        return cube;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

EventCube EventCube::buildCached(Workspace& ws, bool* fromCache)
{
    auto& db = ws.db();
    std::string fingerprint;
    std::optional<EventCube> cube;
    // Schema step 3 made the table; a workspace viewed as it is (never migrated by viewing) may
    // be older.
    const bool cacheTable = ws.schemaVersion() >= 3;
    {
        // One read snapshot for the fingerprint and the pass over the events, so a concurrent
        // import can never be half in a cube saved under the older fingerprint. A read
        // transaction: a viewer may not take the write lock, and need not.
        sql::Transaction read(db, sql::Transaction::Lock::Read);
        auto fp = db.prepare("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM events");
        if (fp.step())
            fingerprint = std::to_string(fp.int64(0)) + ":" + std::to_string(fp.int64(1));
        if (cacheTable) {
            auto saved = db.prepare("SELECT fingerprint, cube FROM cube_cache WHERE id = 1");
            if (saved.step() && saved.text(0) == fingerprint)
                cube = fromJson(saved.text(1));
        }
        if (fromCache)
            *fromCache = cube.has_value();
        if (!cube)
            cube = build(ws);
        read.commit();
    }
    // Saved only by a writer (an import, the CLI after one): viewing writes nothing.
    if ((fromCache && *fromCache) || ws.viewOnly() || !cacheTable)
        return std::move(*cube);
    // Save for the next open; a writer busy elsewhere (an import) means not now. SQLite has
    // no getter for the busy timeout: it goes back to the one sql::Database sets.
    sqlite3_busy_timeout(db.handle(), 0);
    try {
        sql::Transaction write(db);
        auto st = db.prepare("INSERT OR REPLACE INTO cube_cache(id, fingerprint, built_at, cube) VALUES (1, ?, ?, ?)");
        st.bind(1, fingerprint).bind(2, nowUtc()).bind(3, cube->toJson());
        st.run();
        write.commit();
    } catch (const sql::Error&) {
        // Locked by an import: the cube is still good for this session.
    }
    sqlite3_busy_timeout(db.handle(), sql::kBusyTimeoutMs);
    return std::move(*cube);
}

bool EventCube::answers(const EventFilter& filter) const
{
    if (!filter.text.empty() && filter.text != m_text)
        return false;
    if ((!filter.from.empty() || !filter.to.empty()) && !m_canonicalTimes)
        return false;
    if (!filter.from.empty() && !hourOf(filter.from))
        return false;
    if (!filter.to.empty() && !hourOf(filter.to))
        return false;
    return true;
}

EventCube::Match EventCube::compile(const EventFilter& filter) const
{
    Match m;
    const auto list = [&](Field field, const std::vector<std::string>& values) {
        if (values.empty())
            return;
        auto& a = m.allowed[field];
        a.assign(m_dict[field].size(), 0);
        for (std::size_t id = 0; id < m_dict[field].size(); ++id) {
            const auto& v = m_dict[field][id];
            for (const auto& want : values)
                if (v == want || (want == "(none)" && v.empty()))
                    a[id] = 1;
        }
    };
    list(Provider, filter.providers);
    list(Domain, filter.domains);
    list(Ip, filter.ips);
    list(Campaign, filter.campaigns);
    list(Type, filter.eventTypes);
    list(Family, filter.families);
    list(Reason, filter.reasons);
    if (!filter.spamRelated.empty()) {
        auto& a = m.allowed[Spam];
        a.assign(m_dict[Spam].size(), 0);
        for (std::size_t id = 0; id < a.size(); ++id)
            a[id] = m_dict[Spam][id] == filter.spamRelated;
    }
    if (!filter.enhancedCode.empty()) {
        // As in SQL: a full code matches itself; "5.7" matches itself and 5.7.x.
        const bool full = std::count(filter.enhancedCode.begin(), filter.enhancedCode.end(), '.') >= 2;
        auto& a = m.allowed[Enhanced];
        a.assign(m_dict[Enhanced].size(), 0);
        for (std::size_t id = 0; id < a.size(); ++id) {
            const auto& v = m_dict[Enhanced][id];
            a[id] = v == filter.enhancedCode || (!full && v.rfind(filter.enhancedCode + ".", 0) == 0);
        }
    }
    if (!filter.from.empty() || !filter.to.empty()) {
        const auto from = filter.from.empty() ? std::optional<std::string>() : hourOf(filter.from);
        const auto to = filter.to.empty() ? std::optional<std::string>() : hourOf(filter.to);
        auto& a = m.allowed[Hour];
        a.assign(m_dict[Hour].size(), 0);
        for (std::size_t id = 1; id < a.size(); ++id) {
            const auto& h = m_dict[Hour][id];
            a[id] = (!from || h >= *from) && (!to || h < *to);
        }
    }
    m.code = filter.basicCode;
    m.templateId = filter.templateId;
    m.needText = !filter.text.empty();
    m.typesNamed = !filter.eventTypes.empty();
    return m;
}

std::vector<GroupRow> EventCube::groupReport(GroupBy by, const EventFilter& filter,
                                             const std::vector<SendCount>& given) const
{
    const bool carry = groupsCarryDeliveries(by);
    const Match m = compile(filter);
    const auto keyOf = [&](const Cell& c) -> std::string {
        switch (by) {
        case GroupBy::Provider:
            return orNone(value(Provider, c.f[Provider]));
        case GroupBy::Domain:
            return orNone(value(Domain, c.f[Domain]));
        case GroupBy::Ip:
            return orNone(value(Ip, c.f[Ip]));
        case GroupBy::Campaign:
            return orNone(value(Campaign, c.f[Campaign]));
        case GroupBy::Family:
            return orNone(value(Family, c.f[Family]));
        case GroupBy::Reason:
            return orNone(value(Reason, c.f[Reason]));
        case GroupBy::Day:
            return orNone(value(Hour, c.f[Hour]).substr(0, 10));
        case GroupBy::Hour:
            return orNone(value(Hour, c.f[Hour]));
        case GroupBy::Template:
            return std::to_string(c.templateId);
        }
        return {};
    };
    std::map<std::string, GroupTally> groups;
    for (const Cell& c : m_cells) {
        if (!m.population(c))
            continue;
        const std::string& type = value(Type, c.f[Type]);
        if (!carry && type == "delivered")
            continue; // a delivery has no template, family or reason
        GroupTally& t = groups[keyOf(c)];
        t.add(type, value(Family, c.f[Family]), m.bounce(c), m.typesNamed, c.recording, c.n);
        if (by == GroupBy::Template)
            t.row.templateId = c.templateId;
    }
    std::vector<GroupTally> tallies;
    tallies.reserve(groups.size());
    for (auto& [k, t] : groups) {
        t.row.key = k;
        if (by == GroupBy::Template) {
            t.row.key = "(none)";
            const auto it = std::lower_bound(m_templates.begin(), m_templates.end(), t.row.templateId,
                                             [](const auto& p, std::int64_t id) { return p.first < id; });
            if (t.row.templateId && it != m_templates.end() && it->first == t.row.templateId && !it->second.empty())
                t.row.key = it->second;
        }
        tallies.push_back(std::move(t));
    }
    return finishGroups(std::move(tallies), by, filter, given);
}

std::vector<TimeBucket> EventCube::timeSeries(const EventFilter& filter, bool hourly) const
{
    const Match m = compile(filter);
    std::map<std::string, TimeBucket> buckets;
    for (const Cell& c : m_cells) {
        const std::string& hour = value(Hour, c.f[Hour]);
        if (hour.empty() || !m.population(c))
            continue;
        const std::string& type = value(Type, c.f[Type]);
        const bool delivered = type == "delivered";
        const bool counted = m.bounce(c) && (m.typesNamed ? !delivered : type == "bounce");
        if (!delivered && !counted)
            continue;
        const std::string b = hourly ? hour : hour.substr(0, 10);
        if (bucketRange(b).first.empty())
            continue;
        TimeBucket& t = buckets[b];
        t.bucket = b;
        if (delivered) {
            t.deliveries += c.n;
        } else {
            t.bounces += c.n;
            const std::string& fam = value(Family, c.f[Family]);
            t.families[fam.empty() ? std::string("unknown") : fam] += c.n;
        }
    }
    std::vector<TimeBucket> out;
    for (auto& [b, t] : buckets) {
        // The hours or days without traffic in between, as in the SQL series.
        while (!out.empty()) {
            const std::string next = bucketRange(out.back().bucket).second;
            if (next >= b)
                break;
            out.push_back({next, 0, 0, {}});
        }
        out.push_back(std::move(t));
    }
    return out;
}

bool EventCube::preferHourly(const EventFilter& filter, int maxHours) const
{
    const Match m = compile(filter);
    std::string first, last;
    bool any = false;
    for (const Cell& c : m_cells) {
        if (!m.population(c) || !m.bounce(c))
            continue;
        const std::string& h = value(Hour, c.f[Hour]);
        if (h.empty())
            continue;
        if (!any || h < first)
            first = h;
        if (!any || h > last)
            last = h;
        any = true;
    }
    if (!any)
        return true;
    if (bucketRange(first).first.empty() || bucketRange(last).first.empty() || first.size() != 13 || last.size() != 13)
        return false;
    std::string t = first;
    for (int i = 0; i < maxHours && t < last; ++i)
        t = bucketRange(t).second;
    return t >= last;
}

std::vector<Incident> EventCube::incidents(GroupBy by, bool hourly, std::int64_t minBounces, double factor) const
{
    // The same walk as bt::incidents, over cells instead of rows.
    Series series;
    for (const Cell& c : m_cells) {
        const std::string& hour = value(Hour, c.f[Hour]);
        if (hour.empty())
            continue;
        const std::string key = orNone(by == GroupBy::Ip ? value(Ip, c.f[Ip]) : value(Provider, c.f[Provider]));
        auto& cell = series[key][hourly ? hour : hour.substr(0, 10)];
        const std::string& type = value(Type, c.f[Type]);
        if (type == "bounce") {
            cell.bounces += c.n;
            const std::string& fam = value(Family, c.f[Family]);
            cell.families[fam.empty() ? std::string("unknown") : fam] += c.n;
        } else if (type == "delivered") {
            cell.deliveries += c.n;
        }
    }
    return findIncidents(series, minBounces, factor);
}

} // namespace bt
