// SPDX-License-Identifier: MIT
#include "cube.h"

#include "sqlite.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <sqlite3.h>
#include <unordered_map>

namespace bt
{

namespace
{

constexpr std::size_t kTime = fieldIndex("time");
constexpr std::size_t kType = fieldIndex("event_type");
constexpr std::size_t kFamily = fieldIndex("family");

/// The index in kFields of the field a grouping groups on.
std::size_t indexOf(GroupBy by)
{
    return static_cast<std::size_t>(&fieldOf(by) - kFields);
}

} // namespace

struct EventCube::Match {
    /// Per field, the dictionary ids that pass; empty means the field does not filter.
    std::array<std::vector<char>, kFieldCount> allowed;
    bool needText = false;
    bool typesNamed = false;

    bool pass(std::size_t field, std::uint32_t id) const
    {
        const auto& a = allowed[field];
        return a.empty() || a[id];
    }
    /// The cell passes every field of one half of the filter (see EventFilter).
    bool passes(const Cell& c, bool population) const
    {
        for (std::size_t i = 0; i < kFieldCount; ++i)
            if (kFields[i].population == population && !pass(i, c.f[i]))
                return false;
        return true;
    }
    bool population(const Cell& c) const { return passes(c, true); }
    bool bounce(const Cell& c) const { return passes(c, false) && (!needText || c.textMatch); }
};

/// Per event id: its cell in the cube of every event, and its place in the table's time order
/// (timestamp, then id; NULL first, as SQL sorts). 8 bytes a slot, one slot per id from the
/// lowest to the highest.
struct EventCube::EventMap {
    static constexpr std::uint32_t kNone = 0xffffffffu;
    std::int64_t first = 0; ///< the id of slot 0
    std::vector<std::uint32_t> cell; ///< kNone: no event has this id
    std::vector<std::uint32_t> rank;

    /// The slot of an id; nullopt past either end (an event imported since the map was made).
    std::optional<std::size_t> slot(std::int64_t id) const
    {
        if (id < first || id - first >= static_cast<std::int64_t>(cell.size()))
            return std::nullopt;
        return static_cast<std::size_t>(id - first);
    }
};

/// The map as saved in cube_cache, read on first use: only a search needs it, and opening the
/// window should not wait for a million varints.
struct EventCube::SavedMap {
    std::once_flag once;
    std::string bytes;
    std::unique_ptr<EventMap> map; ///< null when there is none or its bytes are damaged
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

/// The SELECT that reads events as cube cells: every field's column as stored (numbers read back
/// as their digits) in table order, `words` for the searched field, whether the event's import
/// records deliveries, then its id.
std::string cellsSql(const std::string& words)
{
    std::string columns;
    for (const Field& field : kFields)
        columns += (columns.empty() ? "" : ", ")
            + (field.match == FieldMatch::Words ? words : "e." + std::string(field.column));
    return "SELECT " + columns + ", (e.import_id IN " + recordingImportsSql() + "), e.id FROM events e";
}

/// A cube cell's key (every field's id, the text match, recording) hashed and compared: one pass
/// aggregates in a hash map, where SQLite's GROUP BY over a dozen columns would sort every row.
struct CellHash {
    template<class Cell> std::size_t operator()(const Cell& c) const noexcept
    {
        std::size_t h = static_cast<std::size_t>(c.recording) << 20 ^ static_cast<std::size_t>(c.textMatch) << 21;
        for (auto v : c.f)
            h = h * 1000003u ^ v;
        return h;
    }
};
struct CellEq {
    template<class Cell> bool operator()(const Cell& a, const Cell& b) const noexcept
    {
        return a.f == b.f && a.textMatch == b.textMatch && a.recording == b.recording;
    }
};

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
    std::array<std::unordered_map<std::string, std::uint32_t, ViewHash, std::equal_to<>>, kFieldCount> ids;
    const auto intern = [&](std::size_t field, std::string_view s) {
        auto& map = ids[field];
        if (const auto it = map.find(s); it != map.end())
            return it->second;
        const auto id = static_cast<std::uint32_t>(cube.m_dict[field].size());
        cube.m_dict[field].emplace_back(s);
        map.emplace(std::string(s), id);
        return id;
    };
    // Empty (NULL) is id 0 everywhere, so "(none)" filters find it without a lookup.
    for (std::size_t f = 0; f < kFieldCount; ++f)
        intern(f, {});
    // One plain pass, aggregated here in a hash map: SQLite's GROUP BY over a dozen columns
    // would sort every row first.
    std::unordered_map<Cell, std::size_t, CellHash, CellEq> at;
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
    auto st = ws.db().prepare(cellsSql("(" + match + ")"));
    bindAll(st, 1, textSql.bounceBinds);
    const int recording = static_cast<int>(kFieldCount);
    // The cube of every event also learns each event's cell, for searches (knowsEvents).
    std::vector<std::int64_t> eventIds;
    std::vector<std::uint32_t> eventCells;
    while (st.step()) {
        Cell c;
        for (std::size_t f = 0; f < kFieldCount; ++f) {
            const int col = static_cast<int>(f);
            if (kFields[f].match == FieldMatch::Words) {
                c.textMatch = st.int64(col) != 0;
            } else if (kFields[f].kind == FieldKind::Time) {
                const std::string_view ts = st.textView(col);
                if (!ts.empty() && !canonicalTime(ts))
                    cube.m_canonicalTimes = false;
                c.f[f] = intern(f, ts.substr(0, 13));
            } else {
                c.f[f] = intern(f, st.textView(col));
            }
        }
        c.recording = st.int64(recording) != 0;
        auto [it, added] = at.try_emplace(c, cube.m_cells.size());
        if (added)
            cube.m_cells.push_back(c);
        ++cube.m_cells[it->second].n;
        ++cube.m_events;
        if (text.empty()) {
            eventIds.push_back(st.int64(recording + 1));
            eventCells.push_back(static_cast<std::uint32_t>(it->second));
        }
    }
    auto t = ws.db().prepare("SELECT id, text FROM templates ORDER BY id");
    while (t.step())
        cube.m_templates.emplace_back(t.int64(0), t.text(1));
    if (text.empty() && !eventIds.empty())
        cube.mapEvents(ws, eventIds, eventCells);
    return cube;
}

void EventCube::mapEvents(Workspace& ws, const std::vector<std::int64_t>& ids, const std::vector<std::uint32_t>& cells)
{
    const auto [lo, hi] = std::minmax_element(ids.begin(), ids.end());
    const auto slots = static_cast<std::uint64_t>(*hi - *lo) + 1;
    // Ids far sparser than the events (most deleted) would make a map mostly of holes: the
    // searches read rows instead.
    if (slots > 2 * ids.size() + 1024 || slots >= EventMap::kNone)
        return;
    auto map = std::make_unique<EventMap>();
    map->first = *lo;
    map->cell.assign(slots, EventMap::kNone);
    map->rank.assign(slots, EventMap::kNone);
    for (std::size_t i = 0; i < ids.size(); ++i)
        map->cell[static_cast<std::size_t>(ids[i] - *lo)] = cells[i];
    // The time order as the table sorts (the events_time index holds it: no sort here). A
    // writer between the two reads (outside buildCached's read transaction) shows as an id
    // unknown or missing, and the map is not kept.
    auto st = ws.db().prepare("SELECT id FROM events ORDER BY timestamp, id");
    std::uint32_t place = 0;
    while (st.step()) {
        const auto at = map->slot(st.int64(0));
        if (!at || map->cell[*at] == EventMap::kNone || map->rank[*at] != EventMap::kNone || place >= ids.size())
            return;
        map->rank[*at] = place++;
    }
    if (place != ids.size())
        return;
    m_map = std::make_shared<SavedMap>();
    m_map->map = std::move(map);
}

const EventCube::EventMap* EventCube::eventMap() const
{
    if (!m_map)
        return nullptr;
    std::call_once(m_map->once, [this] {
        if (!m_map->map && !m_map->bytes.empty())
            m_map->map = readMap(m_map->bytes);
        std::string().swap(m_map->bytes);
    });
    return m_map->map.get();
}

bool EventCube::knowsEvents() const
{
    return m_text.empty() && eventMap();
}

std::optional<EventCube> EventCube::withMatches(const std::string& text, std::span<const std::int64_t> ids) const
{
    const EventMap* map = eventMap();
    if (text.empty() || !m_text.empty() || !map)
        return std::nullopt;
    EventCube cube;
    cube.m_text = text;
    cube.m_dict = m_dict;
    cube.m_templates = m_templates;
    cube.m_events = m_events;
    cube.m_canonicalTimes = m_canonicalTimes;
    // Every cell starts as not matching; each matching event moves one count to the cell's
    // matching twin, made when its first match comes.
    cube.m_cells.reserve(m_cells.size() * 2);
    cube.m_cells = m_cells;
    for (Cell& c : cube.m_cells)
        c.textMatch = false;
    std::vector<std::uint32_t> twin(m_cells.size(), EventMap::kNone);
    for (const std::int64_t id : ids) {
        const auto at = map->slot(id);
        if (!at)
            return std::nullopt;
        const std::uint32_t from = map->cell[*at];
        if (from == EventMap::kNone)
            continue; // in the index, not in the table: SQL's join leaves it out too
        if (cube.m_cells[from].n == 0)
            return std::nullopt;
        --cube.m_cells[from].n;
        if (twin[from] == EventMap::kNone) {
            Cell c = cube.m_cells[from];
            c.textMatch = true;
            c.n = 0;
            twin[from] = static_cast<std::uint32_t>(cube.m_cells.size());
            cube.m_cells.push_back(c);
        }
        ++cube.m_cells[twin[from]].n;
    }
    std::erase_if(cube.m_cells, [](const Cell& c) { return c.n == 0; });
    return cube;
}

std::optional<std::vector<std::int64_t>>
EventCube::inTimeOrder(const EventFilter& filter, std::span<const std::int64_t> ids, bool descending) const
{
    const EventMap* map = eventMap();
    if (!map || !m_text.empty())
        return std::nullopt;
    EventFilter rest = filter;
    rest.text.clear();
    if (!answers(rest))
        return std::nullopt;
    const Match m = compile(rest);
    const bool everyEvent = rest.empty();
    std::vector<std::pair<std::uint32_t, std::int64_t>> kept; // rank, id
    kept.reserve(ids.size());
    for (const std::int64_t id : ids) {
        const auto at = map->slot(id);
        if (!at)
            return std::nullopt;
        const std::uint32_t cell = map->cell[*at];
        if (cell == EventMap::kNone)
            continue;
        if (!everyEvent && !(m.population(m_cells[cell]) && m.bounce(m_cells[cell])))
            continue;
        kept.emplace_back(map->rank[*at], id);
    }
    if (descending)
        std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    else
        std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::int64_t> out;
    out.reserve(kept.size());
    for (const auto& k : kept)
        out.push_back(k.second);
    return out;
}

std::optional<EventCube> EventCube::withText(Workspace& ws, const EventCube& all, const std::string& text)
{
    if (text.empty() || !all.m_text.empty())
        return std::nullopt;
    EventCube cube;
    cube.m_text = text;
    cube.m_dict = all.m_dict;
    cube.m_templates = all.m_templates;
    cube.m_events = all.m_events;
    cube.m_canonicalTimes = all.m_canonicalTimes;
    // The dictionaries are not added to: a value the cube of every event lacks means it is stale.
    std::array<std::unordered_map<std::string_view, std::uint32_t, ViewHash, std::equal_to<>>, kFieldCount> ids;
    for (std::size_t f = 0; f < kFieldCount; ++f) {
        ids[f].reserve(cube.m_dict[f].size());
        for (std::size_t i = 0; i < cube.m_dict[f].size(); ++i)
            ids[f].emplace(cube.m_dict[f][i], static_cast<std::uint32_t>(i));
    }
    // Every cell starts as not matching; each matching event then moves one count over.
    cube.m_cells = all.m_cells;
    std::unordered_map<Cell, std::size_t, CellHash, CellEq> at;
    at.reserve(cube.m_cells.size() * 2);
    for (std::size_t i = 0; i < cube.m_cells.size(); ++i) {
        cube.m_cells[i].textMatch = false;
        at.emplace(cube.m_cells[i], i);
    }
    EventFilter f;
    f.text = text;
    const FilterSql textSql = filterSql(f);
    // The filter's own SQL: its words through the search index, so only matching rows are read.
    auto st = ws.db().prepare(cellsSql("1") + " WHERE " + textSql.bounce);
    bindAll(st, 1, textSql.bounceBinds);
    const int recording = static_cast<int>(kFieldCount);
    while (st.step()) {
        Cell c;
        c.textMatch = false;
        for (std::size_t fi = 0; fi < kFieldCount; ++fi) {
            if (kFields[fi].match == FieldMatch::Words)
                continue;
            std::string_view v = st.textView(static_cast<int>(fi));
            if (kFields[fi].kind == FieldKind::Time)
                v = v.substr(0, 13);
            const auto it = ids[fi].find(v);
            if (it == ids[fi].end())
                return std::nullopt;
            c.f[fi] = it->second;
        }
        c.recording = st.int64(recording) != 0;
        const auto from = at.find(c);
        if (from == at.end() || cube.m_cells[from->second].n == 0)
            return std::nullopt;
        --cube.m_cells[from->second].n;
        c.textMatch = true;
        const auto [to, added] = at.try_emplace(c, cube.m_cells.size());
        if (added)
            cube.m_cells.push_back(c);
        ++cube.m_cells[to->second].n;
    }
    std::erase_if(cube.m_cells, [](const Cell& c) { return c.n == 0; });
    return cube;
}

std::vector<std::string> EventCube::distinctValues(std::string_view field, int limit) const
{
    const Field* f = fieldById(field);
    if (!f || f->match != FieldMatch::Any || limit <= 0)
        return {};
    const auto fi = static_cast<std::size_t>(f - kFields);
    std::vector<std::int64_t> counts(m_dict[fi].size());
    for (const Cell& c : m_cells)
        counts[c.f[fi]] += c.n;
    std::vector<std::uint32_t> order;
    for (std::uint32_t id = 0; id < counts.size(); ++id)
        if (counts[id] > 0 && !m_dict[fi][id].empty())
            order.push_back(id);
    // SQL's ORDER BY COUNT(*) DESC, value: byte order (BINARY) is std::string's.
    const auto by = [&](std::uint32_t a, std::uint32_t b) {
        return counts[a] != counts[b] ? counts[a] > counts[b] : m_dict[fi][a] < m_dict[fi][b];
    };
    const auto n = std::min(order.size(), static_cast<std::size_t>(limit));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(), by);
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(m_dict[fi][order[i]]);
    return out;
}

namespace
{

// The saved cube (cube_cache.cube, a BLOB): "BTCUBE4\n", the field ids (a cache from a build
// with other fields is stale), whether every time is canonical, the events count, each field's
// dictionary, the cells (one id per field, the count with recording in its low bit, as LEB128
// varints) and the templates. Other integers little-endian, texts as a 32-bit length and their
// bytes. A million events with 12 000 domains
// fold into some hundred thousand cells: as JSON (version 3) that was 24 MB, parsed in 1.5 s
// with 300 MB of parser nodes when the window opened; as this, a pass over the bytes.
// Version 5 adds the events' map (EventMap: a 32-bit length, 0 for none, then the lowest id,
// the slots' cells + 1 (0: no event) and the ids in time order as zigzag deltas, all varints),
// kept as bytes until a search asks for it.
constexpr std::string_view kCubeMagic = "BTCUBE5\n";

void putU32(std::string& out, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void putI64(std::string& out, std::int64_t v)
{
    const auto u = static_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

/// LEB128: a cell's dictionary ids and count are mostly small, one or two bytes each.
void putVar(std::string& out, std::uint64_t v)
{
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

void putText(std::string& out, std::string_view s)
{
    putU32(out, static_cast<std::uint32_t>(s.size()));
    out.append(s);
}

/// Reads what put*() wrote; any read past the end makes it bad, and the cube is rebuilt.
struct CubeReader {
    std::string_view in;
    bool bad = false;

    std::uint64_t bytes(int n)
    {
        if (bad || in.size() < static_cast<std::size_t>(n)) {
            bad = true;
            return 0;
        }
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i)
            v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[static_cast<std::size_t>(i)])) << (8 * i);
        in.remove_prefix(static_cast<std::size_t>(n));
        return v;
    }
    std::uint32_t u32() { return static_cast<std::uint32_t>(bytes(4)); }
    std::uint64_t var()
    {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (bad || in.empty()) {
                bad = true;
                return 0;
            }
            const auto b = static_cast<unsigned char>(in.front());
            in.remove_prefix(1);
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80))
                return v;
        }
        bad = true;
        return 0;
    }
    std::int64_t i64() { return static_cast<std::int64_t>(bytes(8)); }
    std::string_view text()
    {
        const auto n = u32();
        if (bad || in.size() < n) {
            bad = true;
            return {};
        }
        const auto s = in.substr(0, n);
        in.remove_prefix(n);
        return s;
    }
    /// A count of items that take at least `each` bytes: more than the bytes left is damage.
    std::uint32_t count(std::size_t each)
    {
        const auto n = u32();
        if (!bad && n > in.size() / each)
            bad = true;
        return bad ? 0 : n;
    }
};

} // namespace

std::string EventCube::toBlob() const
{
    std::string out(kCubeMagic);
    putU32(out, static_cast<std::uint32_t>(kFieldCount));
    for (const Field& f : kFields)
        putText(out, f.id);
    out.push_back(m_canonicalTimes ? 1 : 0);
    putI64(out, m_events);
    for (const auto& dict : m_dict) {
        putU32(out, static_cast<std::uint32_t>(dict.size()));
        for (const auto& v : dict)
            putText(out, v);
    }
    putU32(out, static_cast<std::uint32_t>(m_cells.size()));
    for (const Cell& c : m_cells) {
        for (auto v : c.f)
            putVar(out, v);
        putVar(out, static_cast<std::uint64_t>(c.n) << 1 | (c.recording ? 1 : 0));
    }
    putU32(out, static_cast<std::uint32_t>(m_templates.size()));
    for (const auto& [id, text] : m_templates) {
        putI64(out, id);
        putText(out, text);
    }
    putText(out, mapBlob());
    return out;
}

std::string EventCube::mapBlob() const
{
    const EventMap* map = eventMap();
    if (!map)
        return {};
    std::string out;
    putI64(out, map->first);
    putU32(out, static_cast<std::uint32_t>(map->cell.size()));
    std::uint32_t present = 0;
    for (const auto c : map->cell) {
        putVar(out, c == EventMap::kNone ? 0 : std::uint64_t(c) + 1);
        present += c != EventMap::kNone;
    }
    std::vector<std::int64_t> byTime(present);
    for (std::size_t i = 0; i < map->cell.size(); ++i)
        if (map->cell[i] != EventMap::kNone)
            byTime[map->rank[i]] = map->first + static_cast<std::int64_t>(i);
    putU32(out, present);
    // Events mostly come in time order: a delta of one byte each.
    std::int64_t prev = map->first;
    for (const auto id : byTime) {
        const std::int64_t d = id - prev;
        putVar(out, static_cast<std::uint64_t>(d) << 1 ^ static_cast<std::uint64_t>(d >> 63));
        prev = id;
    }
    return out;
}

std::unique_ptr<EventCube::EventMap> EventCube::readMap(std::string_view bytes) const
{
    CubeReader r {bytes};
    auto map = std::make_unique<EventMap>();
    map->first = r.i64();
    const auto slots = r.count(1);
    map->cell.resize(slots);
    std::uint32_t present = 0;
    for (auto& c : map->cell) {
        const auto v = r.var();
        if (r.bad || v > m_cells.size())
            return nullptr;
        c = v == 0 ? EventMap::kNone : static_cast<std::uint32_t>(v - 1);
        present += v != 0;
    }
    if (r.u32() != present || r.bad)
        return nullptr;
    map->rank.assign(slots, EventMap::kNone);
    std::int64_t id = map->first;
    for (std::uint32_t place = 0; place < present; ++place) {
        const auto z = r.var();
        id += static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
        const auto at = map->slot(id);
        if (r.bad || !at || map->cell[*at] == EventMap::kNone || map->rank[*at] != EventMap::kNone)
            return nullptr;
        map->rank[*at] = place;
    }
    if (r.bad || !r.in.empty())
        return nullptr;
    return map;
}

std::optional<EventCube> EventCube::fromBlob(std::string_view blob)
{
    // A damaged, older (JSON) or foreign cache is rebuilt, never trusted.
    if (!blob.starts_with(kCubeMagic))
        return std::nullopt;
    CubeReader r {blob.substr(kCubeMagic.size())};
    if (r.u32() != kFieldCount)
        return std::nullopt;
    for (const Field& f : kFields)
        if (r.text() != f.id)
            return std::nullopt;
    EventCube cube;
    cube.m_canonicalTimes = r.bytes(1) != 0;
    cube.m_events = r.i64();
    for (auto& dict : cube.m_dict) {
        const auto n = r.count(4);
        dict.reserve(n);
        for (std::uint32_t i = 0; i < n && !r.bad; ++i)
            dict.emplace_back(r.text());
    }
    const auto cells = r.count(kFieldCount + 1);
    cube.m_cells.reserve(cells);
    for (std::uint32_t i = 0; i < cells && !r.bad; ++i) {
        Cell c;
        for (std::size_t f = 0; f < kFieldCount; ++f) {
            const auto id = r.var();
            if (id >= cube.m_dict[f].size())
                return std::nullopt;
            c.f[f] = static_cast<std::uint32_t>(id);
        }
        const auto nr = r.var();
        c.n = static_cast<std::int64_t>(nr >> 1);
        c.recording = (nr & 1) != 0;
        cube.m_cells.push_back(c);
    }
    const auto templates = r.count(12);
    for (std::uint32_t i = 0; i < templates && !r.bad; ++i) {
        const auto id = r.i64();
        cube.m_templates.emplace_back(id, std::string(r.text()));
    }
    const auto map = r.text();
    if (r.bad || !r.in.empty())
        return std::nullopt;
    if (!map.empty()) {
        cube.m_map = std::make_shared<SavedMap>();
        cube.m_map->bytes = map;
    }
    return cube;
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
                cube = fromBlob(saved.textView(1));
        }
        if (fromCache)
            *fromCache = cube.has_value();
        if (!cube) {
            // The pass reads each page once: a page cache bigger than a window lane's 16 MB
            // (Workspace::useSmallCache) keeps nothing it reads again and only raises the
            // process's memory (the writer's 128 MB filled up in the CLI's save after an import).
            const sql::CacheLimit scan(db, 16384);
            cube = build(ws);
        }
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
        st.bind(1, fingerprint).bind(2, nowUtc()).bindBlob(3, cube->toBlob());
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
    for (const Field& field : kFields) {
        if (!isSet(filter, field))
            continue;
        const auto values = valuesOf(filter, field);
        if (field.match == FieldMatch::Words && values.front() != m_text)
            return false;
        // Time bounds on whole hours only, and only over timestamps whose hour is their prefix.
        if (field.match == FieldMatch::Range) {
            if (!m_canonicalTimes)
                return false;
            for (const auto& bound : values)
                if (!bound.empty() && !hourOf(bound))
                    return false;
        }
    }
    return true;
}

EventCube::Match EventCube::compile(const EventFilter& filter) const
{
    Match m;
    for (std::size_t i = 0; i < kFieldCount; ++i) {
        const Field& field = kFields[i];
        if (!isSet(filter, field))
            continue;
        const auto values = valuesOf(filter, field);
        const auto& dict = m_dict[i];
        auto& a = m.allowed[i];
        switch (field.match) {
        case FieldMatch::Any:
            a.assign(dict.size(), 0);
            for (std::size_t id = 0; id < dict.size(); ++id)
                for (const auto& want : values)
                    if (dict[id] == want || (want == kNoneKey && dict[id].empty()))
                        a[id] = 1;
            break;
        case FieldMatch::Equal: // numbers too: the dictionary holds their digits
            a.assign(dict.size(), 0);
            for (std::size_t id = 0; id < dict.size(); ++id)
                a[id] = dict[id] == values.front();
            break;
        case FieldMatch::Prefix: {
            // As in SQL: a full code matches itself; "5.7" matches itself and 5.7.x.
            const std::string& code = values.front();
            const bool full = std::count(code.begin(), code.end(), '.') >= 2;
            a.assign(dict.size(), 0);
            for (std::size_t id = 0; id < dict.size(); ++id)
                a[id] = dict[id] == code || (!full && dict[id].rfind(code + ".", 0) == 0);
            break;
        }
        case FieldMatch::Range: {
            const auto from = values[0].empty() ? std::optional<std::string>() : hourOf(values[0]);
            const auto to = values[1].empty() ? std::optional<std::string>() : hourOf(values[1]);
            a.assign(dict.size(), 0);
            for (std::size_t id = 1; id < dict.size(); ++id)
                a[id] = (!from || dict[id] >= *from) && (!to || dict[id] < *to);
            break;
        }
        case FieldMatch::Words:
            m.needText = true;
            break;
        }
    }
    m.typesNamed = isSet(filter, kFields[kType]);
    return m;
}

std::vector<GroupRow> EventCube::groupReport(GroupBy by, const EventFilter& filter,
                                             const std::vector<SendCount>& given) const
{
    const bool carry = groupsCarryDeliveries(by);
    const Match m = compile(filter);
    const std::size_t k = indexOf(by);
    const auto keyOf = [&](const Cell& c) -> std::string {
        const std::string& v = value(k, c);
        switch (fieldOf(by).kind) {
        case FieldKind::Time:
            return orNone(by == GroupBy::Day ? v.substr(0, 10) : v);
        case FieldKind::Number: // a template's id, 0 for none, as SQL groups it
            return v.empty() ? std::string("0") : v;
        default:
            return orNone(v);
        }
    };
    // Cells are many (a few hundred thousand over 12 000 domains, twice that in a search's
    // cube), groups and their (type, family) far fewer: each cell adds to a counter found by
    // its ids, and the texts are looked up once per group and combination, not per cell (a
    // string key per cell: Groups by domain over 12 000 domains 605 ms, now 283, under load).
    constexpr std::uint32_t kUnset = 0xffffffffu;
    std::vector<std::uint32_t> groupOf(m_dict[k].size(), kUnset); // the key field's id → tally
    std::map<std::string, std::uint32_t> index; // key text → tally (a Day gathers 24 hours)
    std::vector<GroupTally> tallies;
    // Per group, its (type, family, match, recording) combinations with their counts: a few
    // per group, found by a scan of its own short list (with a hash map of all of them, Groups
    // by domain over 12 000 domains took 103 ms in the core alone, now 67).
    const auto comboOf = [](const Cell& c, bool match) {
        return static_cast<std::uint64_t>(c.f[kType]) << 34 | static_cast<std::uint64_t>(c.f[kFamily]) << 2
            | static_cast<std::uint64_t>(match) << 1 | static_cast<std::uint64_t>(c.recording);
    };
    std::vector<std::vector<std::pair<std::uint64_t, std::int64_t>>> sums;
    const auto& types = m_dict[kType];
    std::vector<char> delivered(types.size());
    for (std::size_t i = 0; i < types.size(); ++i)
        delivered[i] = types[i] == "delivered";
    for (const Cell& c : m_cells) {
        if (!m.population(c))
            continue;
        if (!carry && delivered[c.f[kType]])
            continue; // a delivery has no template, family or reason
        std::uint32_t& g = groupOf[c.f[k]];
        if (g == kUnset) {
            const std::string key = keyOf(c);
            const auto [it, added] = index.try_emplace(key, static_cast<std::uint32_t>(tallies.size()));
            if (added) {
                tallies.emplace_back();
                tallies.back().row.key = key;
                if (by == GroupBy::Template)
                    tallies.back().row.templateId = std::stoll(key);
                sums.emplace_back();
            }
            g = it->second;
        }
        const std::uint64_t combo = comboOf(c, m.bounce(c));
        auto& list = sums[g];
        const auto at = std::find_if(list.begin(), list.end(), [combo](const auto& p) { return p.first == combo; });
        if (at == list.end())
            list.emplace_back(combo, c.n);
        else
            at->second += c.n;
    }
    for (std::size_t g = 0; g < tallies.size(); ++g)
        for (const auto& [combo, n] : sums[g])
            tallies[g].add(types[combo >> 34], m_dict[kFamily][(combo >> 2) & 0xffffffffu], (combo >> 1) & 1,
                           m.typesNamed, combo & 1, n);
    // In key order, as the groups came out of a map before: finishGroups' stable sort keeps
    // that order between rows it finds equal (two templates both shown as "(none)").
    std::vector<GroupTally> ordered;
    ordered.reserve(tallies.size());
    for (const auto& [key, at] : index)
        ordered.push_back(std::move(tallies[at]));
    tallies = std::move(ordered);
    for (auto& t : tallies) {
        if (by == GroupBy::Template) {
            t.row.key = "(none)";
            const auto it = std::lower_bound(m_templates.begin(), m_templates.end(), t.row.templateId,
                                             [](const auto& p, std::int64_t id) { return p.first < id; });
            if (t.row.templateId && it != m_templates.end() && it->first == t.row.templateId && !it->second.empty())
                t.row.key = it->second;
        }
    }
    return finishGroups(std::move(tallies), by, filter, given);
}

std::vector<TimeBucket> EventCube::timeSeries(const EventFilter& filter, bool hourly) const
{
    const Match m = compile(filter);
    // Counted per hour id and family id first, the texts once per bucket (see groupReport).
    const auto& hours = m_dict[kTime];
    const auto& families = m_dict[kFamily];
    const auto& types = m_dict[kType];
    constexpr std::uint32_t kUnset = 0xffffffffu, kSkip = 0xfffffffeu;
    std::vector<std::uint32_t> bucketOf(hours.size(), kUnset);
    std::map<std::string, std::uint32_t> index; // bucket text → slot
    struct Slot {
        std::int64_t bounces = 0, deliveries = 0;
        std::vector<std::int64_t> families;
    };
    std::vector<Slot> slots;
    for (const Cell& c : m_cells) {
        const std::string& hour = value(kTime, c);
        if (hour.empty() || !m.population(c))
            continue;
        const std::string& type = types[c.f[kType]];
        const bool delivered = type == "delivered";
        const bool counted = m.bounce(c) && (m.typesNamed ? !delivered : type == "bounce");
        if (!delivered && !counted)
            continue;
        std::uint32_t& at = bucketOf[c.f[kTime]];
        if (at == kUnset) {
            const std::string b = hourly ? hour : hour.substr(0, 10);
            if (bucketRange(b).first.empty()) {
                at = kSkip;
            } else {
                const auto [it, added] = index.try_emplace(b, static_cast<std::uint32_t>(slots.size()));
                if (added)
                    slots.push_back({0, 0, std::vector<std::int64_t>(families.size())});
                at = it->second;
            }
        }
        if (at == kSkip)
            continue;
        Slot& slot = slots[at];
        if (delivered) {
            slot.deliveries += c.n;
        } else {
            slot.bounces += c.n;
            slot.families[c.f[kFamily]] += c.n;
        }
    }
    std::map<std::string, TimeBucket> buckets;
    for (const auto& [b, at] : index) {
        TimeBucket& t = buckets[b];
        t.bucket = b;
        t.bounces = slots[at].bounces;
        t.deliveries = slots[at].deliveries;
        for (std::size_t f = 0; f < families.size(); ++f)
            if (slots[at].families[f])
                t.families[families[f].empty() ? std::string("unknown") : families[f]] += slots[at].families[f];
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
        const std::string& h = value(kTime, c);
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

std::vector<Incident> EventCube::incidents(GroupBy by, const EventFilter& filter, bool hourly, std::int64_t minBounces,
                                           double factor) const
{
    // The same walk as bt::incidents, over cells instead of rows: the filter's population is the
    // traffic walked, its bounce fields say which bounces count in the families. Counted per
    // (group id, hour id) and family id first, the texts once per pair (see groupReport).
    const Match m = compile(filter);
    const std::size_t k = indexOf(by);
    const auto& types = m_dict[kType];
    const auto& families = m_dict[kFamily];
    struct Slot {
        std::uint32_t group, hour;
        std::int64_t bounces = 0, deliveries = 0;
        std::vector<std::int64_t> families;
    };
    std::vector<Slot> slots;
    std::unordered_map<std::uint64_t, std::uint32_t> slotOf;
    for (const Cell& c : m_cells) {
        const std::string& hour = value(kTime, c);
        if (hour.empty() || !m.population(c))
            continue;
        // Every bucket in which the group saw anything is walked, a deferral's too.
        const std::uint64_t pair = static_cast<std::uint64_t>(c.f[k]) << 32 | c.f[kTime];
        const auto [it, added] = slotOf.try_emplace(pair, static_cast<std::uint32_t>(slots.size()));
        if (added)
            slots.push_back({c.f[k], c.f[kTime], 0, 0, std::vector<std::int64_t>(families.size())});
        Slot& slot = slots[it->second];
        const std::string& type = types[c.f[kType]];
        const bool delivered = type == "delivered";
        if (type == "bounce")
            slot.bounces += c.n;
        else if (delivered)
            slot.deliveries += c.n;
        if (m.bounce(c) && (m.typesNamed ? !delivered : type == "bounce"))
            slot.families[c.f[kFamily]] += c.n;
    }
    Series series;
    for (const Slot& slot : slots) {
        const std::string& hour = m_dict[kTime][slot.hour];
        auto& cell = series[orNone(m_dict[k][slot.group])][hourly ? hour : hour.substr(0, 10)];
        cell.bounces += slot.bounces;
        cell.deliveries += slot.deliveries;
        for (std::size_t f = 0; f < families.size(); ++f)
            if (slot.families[f])
                cell.families[families[f].empty() ? std::string("unknown") : families[f]] += slot.families[f];
    }
    return findIncidents(series, minBounces, factor);
}

} // namespace bt
