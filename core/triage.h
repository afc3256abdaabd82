// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"
#include "query.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bt
{

class EventCube;
class Workspace;

/// What the triage charts show for a filter.
struct ChartAnswer {
    std::vector<GroupRow> providers; ///< per provider (550 replies only when asked for)
    std::vector<GroupRow> templates; ///< per reply template
    std::vector<TimeBucket> series; ///< bounces and deliveries over time
    bool hourly = true; ///< the series' buckets are hours (else days)
    std::vector<Incident> incidents; ///< spikes per provider under the filter (Triage::incidents)
};

/// The values a filter can choose from, and the workspace's time span.
struct FilterChoices {
    std::map<std::string, std::vector<std::string>> values; ///< field id → distinct values (list fields)
    std::string first, last; ///< earliest and latest timestamp; empty without timed events
};

/// The filter's events summed up: the head of a triage report.
struct TriageTotals {
    std::int64_t events = 0, bounces = 0, deliveries = 0;
    /// Over the imports that record deliveries (bt::recordingImportsSql): counted bounces, and
    /// every bounce and delivery — the rate's numerator and denominator.
    std::int64_t rateBounces = 0, sent = 0;
};

/// A reason among the filter's counted bounces, with its most frequent reply template.
struct ReasonCount {
    std::string reason;
    std::int64_t bounces = 0;
    std::string example;
};

/// Everything a printable triage report states about a filter.
struct TriageReport {
    std::string file; ///< the workspace file
    TriageTotals totals;
    std::map<GroupBy, std::vector<GroupRow>> groups; ///< provider, domain, IP, template (all rows)
    bool hourly = true; ///< incidents are walked hour by hour (else day by day)
    std::map<GroupBy, std::vector<Incident>> incidents; ///< per provider and per sending IP
    std::vector<LiftedBlock> lifted;
    std::vector<ReasonCount> reasons; ///< most frequent first
};

/// The one way the window, the printable report and the CLI read a workspace's triage numbers:
/// groups, charts, incidents, filter choices and reports. It decides whether the in-memory cube
/// (bt::EventCube, milliseconds per drill-down) or SQL (full-text searches other than the cube's,
/// times between whole hours) answers, and keeps the cubes, so that every caller gets the same
/// numbers for the same filter by construction.
///
/// Thread-safe: each thread passes its own connection (a Workspace stays with its thread); the
/// cubes are shared between them and built once.
class Triage
{
public:
    /// `useCube`: answer from the in-memory cube where it can (built on first use from the
    /// workspace's cube_cache when valid). False: SQL for everything — what a one-shot command
    /// that asks one question wants, where building a cube would cost more than it saves.
    explicit Triage(bool useCube = true);
    ~Triage();
    Triage(const Triage&) = delete;
    Triage& operator=(const Triage&) = delete;

    /// Bounce rate, level, families and lifted-later blocks per group (bt::groupReport).
    std::vector<GroupRow> groups(Workspace& ws, GroupBy by, const EventFilter& filter);
    /// Spikes per provider or sending IP under the filter (bt::incidents).
    std::vector<Incident> incidents(Workspace& ws, GroupBy by, const EventFilter& filter, bool hourly = true);
    /// Whether a time chart of the filter's bounces reads best hour by hour (bt::preferHourly).
    bool preferHourly(Workspace& ws, const EventFilter& filter);
    /// The charts: providers (`only550`: counting only 550 replies unless the filter names a
    /// code), templates, the time series, and the providers' incidents.
    ChartAnswer charts(Workspace& ws, const EventFilter& filter, bool only550 = false);
    FilterChoices choices(Workspace& ws);
    /// The table's ids for a filter and sort, as bt::eventIds gives them. A full-text search
    /// sorted by time comes from the search index's matches and the cube's map of the events
    /// (EventCube::inTimeOrder), the matches found once for the table and the charts alike;
    /// anything else from SQL.
    std::vector<std::int64_t> eventIds(Workspace& ws, const EventFilter& filter, EventColumn sort, bool descending);
    /// The printable report's numbers; `topReasons` reasons with their typical reply,
    /// `maxLifted` lifted-later blocks.
    TriageReport report(Workspace& ws, const EventFilter& filter, int topReasons = 5, int maxLifted = 20);

    /// After the events changed, by the connection that changed them (a workspace opened for
    /// writing): counts the workspace into its cube_cache, so that the next window or Triage to
    /// open it starts from there instead of a pass over every event.
    static void saveCache(Workspace& ws);

    /// True when a cube that answers `filter` is built already: the answer takes milliseconds.
    bool quick(const EventFilter& filter) const;
    /// How many cubes this Triage built or loaded: one pass over the events each.
    std::size_t cubesBuilt() const { return m_built; }
    /// The events changed (an import, a re-diagnosis): cubes are dropped and built again when
    /// next asked.
    void invalidate();

private:
    /// A cube built already that answers `filter`; nullptr when the cube of the filter's text is
    /// built but cannot answer it (SQL must); nullopt when none is built yet.
    std::optional<std::shared_ptr<const EventCube>> stored(const EventFilter& filter) const;
    /// The cube for `filter`, built now with `ws` if needed, or nullptr when none can answer it.
    std::shared_ptr<const EventCube> cubeFor(Workspace& ws, const EventFilter& filter);
    /// The ids of the events matching `text` (bt::matchingIds), searched once and kept for the
    /// last text: the table's lane and the charts' ask for the same search at the same time.
    std::shared_ptr<const std::vector<std::int64_t>> matches(Workspace& ws, const std::string& text);

    bool m_useCube;
    mutable std::mutex m_cubeMutex; ///< guards the two cubes and the epoch
    std::mutex m_buildMutex; ///< one build at a time: a second asker waits and reuses it
    std::shared_ptr<const EventCube> m_cube; ///< every event
    std::shared_ptr<const EventCube> m_textCube; ///< the last full-text search
    std::mutex m_matchMutex; ///< one search at a time: a second asker waits and reuses it
    std::string m_matchText; ///< the text of m_matches (guarded by m_cubeMutex, as are they)
    std::shared_ptr<const std::vector<std::int64_t>> m_matches;
    std::uint64_t m_epoch = 0;
    std::atomic<std::size_t> m_built {0};
};

} // namespace bt
