// SPDX-License-Identifier: MIT
#pragma once

#include "dmarcsources.h"

#include <QWidget>

class PassRateChart;
class QLabel;
class QSortFilterProxyModel;
class QStackedWidget;
class QTableView;
class SourceTableModel;
class WorkspaceSession;

/// The sending IPs of the workspace's DMARC aggregate reports (bt::sourceReport): a sortable
/// table with unverified sources highlighted, and the DMARC pass rate per day beside the
/// auth-family bounces of the same days — all sources, or the selected one. Filled in the
/// background; says what to import when the workspace holds no reports.
class SourcesView : public QWidget
{
    Q_OBJECT
public:
    explicit SourcesView(QWidget* parent = nullptr);

    void setSession(WorkspaceSession* session);
    void refresh();

    SourceTableModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    PassRateChart* chart() const { return m_chart; }
    /// True while the "no reports" page is shown instead of the table and chart.
    bool showsEmptyState() const;
    /// The empty state's text: for tests.
    QString emptyText() const;

Q_SIGNALS:
    /// The sources of the workspace are on screen.
    void sourcesUpdated();

private:
    void showChartForSelection();

    WorkspaceSession* m_session = nullptr;
    SourceTableModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
    QTableView* m_table = nullptr;
    PassRateChart* m_chart = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_empty = nullptr;
    QStackedWidget* m_pages = nullptr;
    std::vector<bt::DmarcDay> m_allDays;
    quint64 m_generation = 0;
};
