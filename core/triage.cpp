// SPDX-License-Identifier: MIT
#include "triage.h"

#include "cube.h"
#include "fields.h"
#include "sendcounts.h"
#include "sqlite.h"
#include "workspace.h"

#include <algorithm>
#include <optional>

namespace bt
{

Triage::Triage(bool useCube)
    : m_useCube(useCube)
{
}

Triage::~Triage() = default;

std::optional<std::shared_ptr<const EventCube>> Triage::stored(const EventFilter& filter) const
{
    const std::lock_guard lock(m_cubeMutex);
    for (const auto& c : {m_cube, m_textCube})
        if (c && c->answers(filter))
            return c;
    // The cube of the filter's own text is built but cannot answer it (times between whole
    // hours): SQL must, and the cube is not built again.
    const auto& own = filter.text.empty() ? m_cube : m_textCube;
    if (own && own->text() == filter.text)
        return nullptr;
    return std::nullopt;
}

std::shared_ptr<const EventCube> Triage::cubeFor(Workspace& ws, const EventFilter& filter)
{
    if (!m_useCube)
        return nullptr;
    if (auto c = stored(filter))
        return *c;
    const std::lock_guard build(m_buildMutex);
    if (auto c = stored(filter)) // built by another thread while this one waited
        return *c;
    std::uint64_t epoch = 0;
    {
        const std::lock_guard lock(m_cubeMutex);
        epoch = m_epoch;
    }
    // The plain cube comes from the workspace's cache when it is still valid (and is saved there
    // when built); a text search's cube is kept for this Triage only, made from the plain cube
    // with a read of the matching events only (a pass over every event when that cannot be).
    std::shared_ptr<const EventCube> cube;
    if (filter.text.empty()) {
        cube = std::make_shared<const EventCube>(EventCube::buildCached(ws));
    } else {
        std::shared_ptr<const EventCube> all;
        {
            const std::lock_guard lock(m_cubeMutex);
            all = m_cube;
        }
        // From the search index's ids alone when the plain cube knows each event's cell; else
        // the matching rows are read.
        if (all && all->knowsEvents())
            if (auto withMatches = all->withMatches(filter.text, *matches(ws, filter.text)))
                cube = std::make_shared<const EventCube>(std::move(*withMatches));
        if (all && !cube)
            if (auto withText = EventCube::withText(ws, *all, filter.text))
                cube = std::make_shared<const EventCube>(std::move(*withText));
        if (!cube)
            cube = std::make_shared<const EventCube>(EventCube::build(ws, filter.text));
    }
    ++m_built;
    {
        // Kept even when it cannot answer this filter (times between whole hours, which SQL
        // answers): the next drill-down to whole hours needs it, and it is not built again.
        const std::lock_guard lock(m_cubeMutex);
        if (epoch == m_epoch) // not dropped by an import while it was built
            (filter.text.empty() ? m_cube : m_textCube) = cube;
    }
    return cube->answers(filter) ? cube : nullptr;
}

std::shared_ptr<const std::vector<std::int64_t>> Triage::matches(Workspace& ws, const std::string& text)
{
    const auto kept = [&]() -> std::shared_ptr<const std::vector<std::int64_t>> {
        const std::lock_guard lock(m_cubeMutex);
        return m_matches && m_matchText == text ? m_matches : nullptr;
    };
    if (auto m = kept())
        return m;
    const std::lock_guard search(m_matchMutex);
    if (auto m = kept()) // found by another lane while this one waited
        return m;
    std::uint64_t epoch = 0;
    {
        const std::lock_guard lock(m_cubeMutex);
        epoch = m_epoch;
    }
    auto found = std::make_shared<const std::vector<std::int64_t>>(matchingIds(ws, text));
    const std::lock_guard lock(m_cubeMutex);
    if (epoch == m_epoch) {
        m_matchText = text;
        m_matches = found;
    }
    return found;
}

std::vector<std::int64_t> Triage::eventIds(Workspace& ws, const EventFilter& filter, EventColumn sort, bool descending)
{
    if (m_useCube && !filter.text.empty() && sort == EventColumn::Time) {
        const auto all = cubeFor(ws, {});
        if (all && all->knowsEvents())
            if (auto ids = all->inTimeOrder(filter, *matches(ws, filter.text), descending))
                return std::move(*ids);
    }
    return bt::eventIds(ws, filter, sort, descending);
}

bool Triage::quick(const EventFilter& filter) const
{
    if (!m_useCube)
        return false;
    const auto c = stored(filter);
    return c && *c;
}

void Triage::saveCache(Workspace& ws)
{
    EventCube::buildCached(ws);
}

void Triage::invalidate()
{
    const std::lock_guard lock(m_cubeMutex);
    ++m_epoch;
    m_cube.reset();
    m_textCube.reset();
    m_matches.reset();
}

std::vector<GroupRow> Triage::groups(Workspace& ws, GroupBy by, const EventFilter& filter)
{
    if (const auto cube = cubeFor(ws, filter)) {
        // Counts from the cube; the lifted-later flags need each event's own time: SQL.
        auto rows = cube->groupReport(by, filter, sendCounts(ws));
        addLiftedLater(ws, by, filter, rows);
        return rows;
    }
    return groupReport(ws, by, filter);
}

std::vector<Incident> Triage::incidents(Workspace& ws, GroupBy by, const EventFilter& filter, bool hourly)
{
    if (const auto cube = cubeFor(ws, filter))
        return cube->incidents(by, filter, hourly);
    return bt::incidents(ws, by, filter, hourly);
}

bool Triage::preferHourly(Workspace& ws, const EventFilter& filter)
{
    if (const auto cube = cubeFor(ws, filter))
        return cube->preferHourly(filter);
    return bt::preferHourly(ws, filter);
}

ChartAnswer Triage::charts(Workspace& ws, const EventFilter& filter, bool only550)
{
    ChartAnswer d;
    EventFilter providerFilter = filter;
    if (only550 && !providerFilter.basicCode)
        providerFilter.basicCode = 550;
    if (const auto cube = cubeFor(ws, filter)) {
        // The send counts the user gave are read with every answer: they are not in the cube.
        d.providers = cube->groupReport(GroupBy::Provider, providerFilter, sendCounts(ws));
        d.templates = cube->groupReport(GroupBy::Template, filter);
        d.hourly = cube->preferHourly(filter);
        d.series = cube->timeSeries(filter, d.hourly);
        d.incidents = cube->incidents(GroupBy::Provider, filter, true);
        return d;
    }
    const auto given = sendCounts(ws);
    d.providers = groupReport(ws, GroupBy::Provider, providerFilter, given);
    d.templates = groupReport(ws, GroupBy::Template, filter, given);
    d.hourly = bt::preferHourly(ws, filter);
    d.series = timeSeries(ws, filter, d.hourly);
    d.incidents = bt::incidents(ws, GroupBy::Provider, filter, true);
    return d;
}

FilterChoices Triage::choices(Workspace& ws)
{
    FilterChoices c;
    // Choices for every field filtered by a list of values: from the cube of every event when
    // there is one (its dictionaries and counts), else SQL's GROUP BY over the whole table
    // (about 0.4 s at 1M events, the window's open waited on it).
    const auto cube = cubeFor(ws, {});
    for (const Field& field : kFields)
        if (field.match == FieldMatch::Any)
            c.values[std::string(field.id)]
                = cube ? cube->distinctValues(field.id) : distinctValues(ws, std::string(field.id));
    auto span = ws.db().prepare("SELECT MIN(timestamp), MAX(timestamp) FROM events");
    if (span.step() && !span.isNull(0)) {
        c.first = span.text(0);
        c.last = span.text(1);
    }
    return c;
}

namespace
{

TriageTotals totals(Workspace& ws, const EventFilter& filter)
{
    TriageTotals t;
    t.events = countEvents(ws, filter);
    const FilterSql f = filterSql(filter);
    auto st = ws.db().prepare(
        "SELECT COALESCE(SUM(c), 0), COALESCE(SUM(e.event_type = 'delivered'), 0), COALESCE(SUM(c AND r), 0), "
        "COALESCE(SUM(r AND e.event_type IN ('bounce', 'delivered')), 0) FROM (SELECT e.event_type, ("
        + countedBounces(filter, f) + ") AS c, (e.import_id IN " + recordingImportsSql()
        + ") AS r FROM events e WHERE (" + f.population + ")) e");
    bindAll(st, bindAll(st, 1, f.bounceBinds), f.populationBinds);
    if (st.step()) {
        t.bounces = st.int64(0);
        t.deliveries = st.int64(1);
        t.rateBounces = st.int64(2);
        t.sent = st.int64(3);
    }
    return t;
}

std::vector<ReasonCount> topReasons(Workspace& ws, const EventFilter& filter, int limit)
{
    const FilterSql f = filterSql(filter);
    const std::string where = " WHERE (" + f.population + ") AND (" + countedBounces(filter, f) + ")";
    auto st = ws.db().prepare("SELECT COALESCE(NULLIF(e.reason, ''), 'undefined') AS r, COUNT(*) FROM events e" + where
                              + " GROUP BY r ORDER BY 2 DESC, r LIMIT ?");
    const int next = bindAll(st, bindAll(st, 1, f.populationBinds), f.bounceBinds);
    st.bind(next, limit);
    std::vector<ReasonCount> out;
    while (st.step())
        out.push_back({st.text(0), st.int64(1), {}});
    // The typical reply of each reason among the same filtered bounces (a Gmail report quotes
    // Gmail's words). The unary + keeps the planner off events_template for the join and the
    // grouping: walking that index visits the rows in random order, 3x slower on 1M events
    // than the plain scan it otherwise does (a template filter in `where` still uses it).
    auto ex = ws.db().prepare("SELECT t.text FROM events e JOIN templates t ON t.id = +e.template_id" + where
                              + " AND COALESCE(NULLIF(e.reason, ''), 'undefined') = ?"
                                " GROUP BY +e.template_id ORDER BY COUNT(*) DESC, e.template_id LIMIT 1");
    for (ReasonCount& r : out) {
        ex.reset();
        const int at = bindAll(ex, bindAll(ex, 1, f.populationBinds), f.bounceBinds);
        ex.bind(at, std::string_view(r.reason));
        if (ex.step())
            r.example = ex.text(0);
    }
    return out;
}

} // namespace

TriageReport Triage::report(Workspace& ws, const EventFilter& filter, int topReasonCount, int maxLifted)
{
    TriageReport r;
    r.file = ws.path();
    r.totals = totals(ws, filter);
    for (GroupBy by : {GroupBy::Provider, GroupBy::Domain, GroupBy::Ip, GroupBy::Template})
        r.groups[by] = groups(ws, by, filter);
    r.hourly = preferHourly(ws, filter);
    for (GroupBy by : {GroupBy::Provider, GroupBy::Ip})
        r.incidents[by] = incidents(ws, by, filter, r.hourly);
    r.lifted = liftedLater(ws, filter, maxLifted);
    r.reasons = topReasons(ws, filter, topReasonCount);
    return r;
}

} // namespace bt
