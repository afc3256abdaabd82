// SPDX-License-Identifier: MIT
#pragma once

#include "query.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QSet>

#include <atomic>
#include <memory>

class WorkspaceSession;
namespace bt
{
class KnowledgeBase;
}

/// The events of the workspace that match the drill-down filter, as a windowed table: COUNT(*)
/// gives the row count, pages of rows are fetched in the background as the view asks for them,
/// sorting and filtering happen in SQL. Under a full-text search the snapshot is the ordered
/// list of matching ids instead (bt::eventIds: one search gives the count and every page). A new filter or sort swaps
/// the whole snapshot in one reset when its first page has arrived, so the table never shows a mix of old and new rows.
class EventTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Roles {
        EventIdRole = Qt::UserRole,
        FamilyRole,
        FullReplyRole,
    };
    static constexpr int kPageSize = 200;
    /// Pages kept in memory; the farthest from the last one asked for go first.
    static constexpr int kMaxPages = 64;

    explicit EventTableModel(QObject* parent = nullptr);
    ~EventTableModel() override;

    /// Shows the events of `session` (nullptr: none) under `filter`.
    void setSession(WorkspaceSession* session);
    /// The provider tables, to show a brand beside its domain ("aol.com (AOL)") where the event
    /// counts under another operator; none: the domain alone. Must outlive the model.
    void setKnowledge(const bt::KnowledgeBase* kb) { m_kb = kb; }
    void setFilter(const bt::EventFilter& filter);
    const bt::EventFilter& filter() const { return m_filter; }

    /// Events matching the filter (the table's row count once loaded).
    qint64 totalCount() const { return m_count; }
    /// True while a count or page is on its way.
    bool isLoading() const { return m_pendingReset || !m_requested.isEmpty(); }
    /// The event id of a row whose page is loaded, else 0.
    qint64 eventId(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

Q_SIGNALS:
    /// A new snapshot (filter or sort) is in place with this many rows.
    void countChanged(qint64 count);
    /// Rows [first, last] have arrived.
    void pageLoaded(int first, int last);

private:
    const bt::KnowledgeBase* m_kb = nullptr;
    void reload();
    void requestPage(int page) const;
    const bt::EventRow* rowAt(int row) const;

    WorkspaceSession* m_session = nullptr;
    bt::EventFilter m_filter;
    bt::EventColumn m_sortColumn = bt::EventColumn::Time;
    bool m_descending = true;
    qint64 m_count = 0;
    quint64 m_generation = 0;
    /// Shared with the jobs, so a superseded job still waiting on its lane returns at once.
    std::shared_ptr<std::atomic<quint64>> m_live = std::make_shared<std::atomic<quint64>>(0);
    bool m_pendingReset = false;
    mutable QHash<int, QList<bt::EventRow>> m_pages;
    /// The snapshot's ids in table order when it was taken whole (a full-text search); null when
    /// pages come by OFFSET. Shared with the page jobs, which read their slice of it.
    std::shared_ptr<const std::vector<std::int64_t>> m_ids;
    mutable QSet<int> m_requested;
    mutable int m_lastAsked = 0;
};
