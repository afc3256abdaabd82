// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"
#include "fields.h"
#include "query.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

/// The workspace's events counted by hour and by every field the charts and groups filter on
/// (each of bt::kFields: provider, domain, sending IP, campaign, event type, family, reason,
/// codes, spam_related, template), built in one SQL pass. A million events fold into a few thousand cells, so a
/// drill-down redraws its charts from memory in milliseconds instead of rescanning the table.
///
/// It answers exactly what the SQL functions of the same name answer, for every filter it
/// accepts (answers()): no full-text search, and time bounds on whole hours. The lifted-later
/// counts need each event's own time and stay with SQL (groupReport leaves them 0).
class EventCube
{
public:
    EventCube() = default;
    /// Counts every event. With `text`, each cell also says whether its events' replies match
    /// that full-text query, so filters searching for exactly that text are answered too.
    static EventCube build(Workspace& ws, const std::string& text = {});
    /// The cube of `text` from `all`, the cube of every event (no text): only the events whose
    /// replies match are read, through the search index, each moved from its cell to the same
    /// cell marked as matching — the same cube build(ws, text) gives, without a pass over
    /// every event. nullopt when `all` does not count the workspace's events as they are now
    /// (a value or cell it lacks): then build(ws, text) must.
    static std::optional<EventCube> withText(Workspace& ws, const EventCube& all, const std::string& text);

    /// True when the cube knows each event's cell and its place in time order: a cube of every
    /// event built by a pass over them (build) or loaded with them from cube_cache. A search is
    /// then answered from the search index's ids alone (withMatches, inTimeOrder): reading the
    /// 167 000 matching rows of a search on 1M events took 3/4 of its time, the index 40 ms.
    bool knowsEvents() const;
    /// The cube of `text` from this one, the cube of every event, and `ids`: the events whose
    /// replies match it (bt::matchingIds, ascending). The same cube as build(ws, text) and
    /// withText, without reading an event. nullopt when the cube does not know the events or
    /// an id is past them (imported since).
    std::optional<EventCube> withMatches(const std::string& text, std::span<const std::int64_t> ids) const;
    /// Of `ids` (the matches of the filter's text, ascending), those that pass the filter's other
    /// fields, in the table's time order (timestamp, then id; newest first when `descending`):
    /// bt::eventIds' answer when sorted by time. nullopt when the cube cannot answer the filter
    /// or does not know the events.
    std::optional<std::vector<std::int64_t>> inTimeOrder(const EventFilter& filter, std::span<const std::int64_t> ids,
                                                         bool descending) const;

    /// The cube of every event from the workspace's cube_cache when it is still valid (same
    /// events count and highest id, and no import or re-diagnosis since), else built now and
    /// saved there for the next open — by a workspace opened for writing only (an import's);
    /// a viewer never saves. Saving is skipped, not waited for, while another connection writes.
    static EventCube buildCached(Workspace& ws, bool* fromCache = nullptr);

    /// The full-text query the cube was built for ("" for none).
    const std::string& text() const { return m_text; }
    /// True when this cube gives the same result as SQL for `filter`.
    bool answers(const EventFilter& filter) const;
    std::size_t cells() const { return m_cells.size(); }
    std::int64_t events() const { return m_events; }
    /// The cube as saved in cube_cache (a compact binary form, see cube.cpp) and back; nullopt
    /// for bytes that are not one (an older JSON cache, damage).
    std::string toBlob() const;
    static std::optional<EventCube> fromBlob(std::string_view blob);

    /// As bt::groupReport, with the workspace's send counts (bt::sendCounts) given: they are
    /// the user's, not part of the events, and may change while the cube stays valid.
    std::vector<GroupRow> groupReport(GroupBy by, const EventFilter& filter,
                                      const std::vector<SendCount>& given = {}) const;
    std::vector<TimeBucket> timeSeries(const EventFilter& filter, bool hourly) const;
    bool preferHourly(const EventFilter& filter, int maxHours = 72) const;
    /// As bt::distinctValues: a list field's non-empty values, most events first (ties in byte
    /// order), at most `limit`.
    std::vector<std::string> distinctValues(std::string_view field, int limit = 500) const;
    /// As bt::incidents under a filter.
    std::vector<Incident> incidents(GroupBy by, const EventFilter& filter, bool hourly = true,
                                    std::int64_t minBounces = 5, double factor = 3.0) const;

private:
    /// One dictionary id per field of kFields, in table order: the time field holds the hour
    /// ("2026-03-01T10"); a searched field's stays 0, its match is textMatch.
    struct Cell {
        std::array<std::uint32_t, kFieldCount> f {};
        bool textMatch = true; ///< the replies match m_text (always true without one)
        bool recording = false; ///< from an import that records deliveries (recordingImportsSql)
        std::int64_t n = 0;
    };
    struct Match; // a filter compiled against the dictionaries
    struct EventMap; // per event: its cell and its place in time order (cube.cpp)
    struct SavedMap; // an EventMap as saved, read on first use

    Match compile(const EventFilter& filter) const;
    const std::string& value(std::size_t field, const Cell& c) const { return m_dict[field][c.f[field]]; }

    std::array<std::vector<std::string>, kFieldCount> m_dict;
    std::vector<Cell> m_cells;
    std::vector<std::pair<std::int64_t, std::string>> m_templates; ///< id → text, sorted by id
    std::int64_t m_events = 0;
    std::string m_text;
    bool m_canonicalTimes = true; ///< every timestamp is "YYYY-MM-DDTHH:MM:SSZ" or NULL
    /// The events' map of a cube of every event (none for a text cube): shared, never changed
    /// once read, so copies of the cube and the lanes asking at once share one.
    std::shared_ptr<SavedMap> m_map;
    const EventMap* eventMap() const;
    /// Learns each event's cell (`ids` and `cells` from build's pass) and reads the time order.
    void mapEvents(Workspace& ws, const std::vector<std::int64_t>& ids, const std::vector<std::uint32_t>& cells);
    std::string mapBlob() const;
    std::unique_ptr<EventMap> readMap(std::string_view bytes) const;
};

} // namespace bt
