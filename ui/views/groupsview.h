// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"

#include <QWidget>

class DrillDown;
class GroupTableModel;
class ProviderChart;
class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;
class WorkspaceSession;

/// Providers, recipient domains, sending IPs, campaigns, templates, families and days with their
/// counts, rate, level, incident and lifted-later flags, under the drill-down's filter, with a
/// chart of the largest groups' rates against the 1 % and 3 % lines. Sortable; activating a row
/// or clicking a bar drills down to that group.
class GroupsView : public QWidget
{
    Q_OBJECT
public:
    explicit GroupsView(DrillDown* drillDown, QWidget* parent = nullptr);

    void setSession(WorkspaceSession* session);
    void setGroupBy(bt::GroupBy by);
    bt::GroupBy groupBy() const;
    void refresh();

    GroupTableModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    /// The groups' rates (or shares) as bars, the largest groups first, over the table.
    ProviderChart* chart() const { return m_chart; }

Q_SIGNALS:
    /// Groups of the current filter are on screen.
    void groupsUpdated();
    /// A group was activated: the drill-down was narrowed to it.
    void drilledInto(const QString& key);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void fitFamiliesColumn();
    /// Narrows the drill-down to the group of a table row (a chart bar finds its row first).
    void drillInto(const QModelIndex& index);

    WorkspaceSession* m_session = nullptr;
    DrillDown* m_drill;
    GroupTableModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
    QTableView* m_table = nullptr;
    ProviderChart* m_chart = nullptr;
    QComboBox* m_by = nullptr;
    QLabel* m_note = nullptr;
    quint64 m_generation = 0;
};
