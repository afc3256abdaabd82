// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"
#include "query.h"

#include <QStringList>
#include <QWidget>

#include <memory>
#include <vector>

class DetailsPane;
class DrillDown;
class EventTableModel;
class FilterPanel;
class ProviderChart;
class QCheckBox;
class QLabel;
class ElidedLabel;
class QLayout;
class QSplitter;
class QTableView;
class QToolButton;
class TemplateChart;
class TimeChart;
class WorkspaceSession;

namespace bt
{
class Classifier;
}

/// The triage window's main view: filter panel, the three charts (550 concentration by provider,
/// bounces over time, top reply templates), the windowed events table and the details pane. All
/// of them follow one DrillDown; chart clicks and the panel push filters onto it.
class TriageView : public QWidget
{
    Q_OBJECT
public:
    TriageView(std::shared_ptr<const bt::Classifier> classifier, DrillDown* drillDown, QWidget* parent = nullptr);
    ~TriageView() override;

    /// Shows this workspace (nullptr: none).
    void setSession(WorkspaceSession* session);
    /// Re-reads everything (after an import into the open workspace).
    void refresh();

    /// The table lists only bounces (the default) or every event; the charts count every event.
    bool bouncesOnly() const;
    void setBouncesOnly(bool on);
    /// The filter the table shows: the drill-down's, narrowed to bounces when bouncesOnly().
    bt::EventFilter tableFilter() const;

    /// The provider chart counts only 550 replies (the default) or every bounce.
    bool only550() const;
    void setOnly550(bool on);

    EventTableModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    DetailsPane* details() const { return m_details; }
    FilterPanel* filterPanel() const { return m_panel; }
    ProviderChart* providerChart() const { return m_providerChart; }
    TimeChart* timeChart() const { return m_timeChart; }
    TemplateChart* templateChart() const { return m_templateChart; }
    /// The families the charts' legend names, in its order.
    QStringList legendFamilies() const { return m_legendFamilies; }
    QLabel* legend() const { return m_legend; }
    /// Generation of the last chart data shown (tests wait for it to move).
    quint64 chartsGeneration() const { return m_chartsShown; }

    QByteArray saveState() const;
    void restoreState(const QByteArray& state);

Q_SIGNALS:
    /// New chart data is on screen.
    void chartsUpdated();
    /// A short message for the status bar.
    void statusMessage(const QString& message);

private:
    /// The constructor's parts: the drill-down trail (Back, Reset, the filter in words, the
    /// count, the two switches), the three charts, the table with the details pane beside it,
    /// and what clicks and selections do.
    QLayout* makeTrail();
    void makeCharts();
    void makeTableAndDetails();
    void connectSignals();
    void onFilterChanged();
    void loadCharts();
    void loadChoices();
    void updateTrail();
    void updateLegend(const std::vector<bt::GroupRow>& providers, const std::vector<bt::TimeBucket>& series,
                      bool incidents, bool listed = false);

    std::shared_ptr<const bt::Classifier> m_classifier;
    DrillDown* m_drill;
    WorkspaceSession* m_session = nullptr;
    EventTableModel* m_model = nullptr;
    FilterPanel* m_panel = nullptr;
    QTableView* m_table = nullptr;
    DetailsPane* m_details = nullptr;
    ProviderChart* m_providerChart = nullptr;
    TimeChart* m_timeChart = nullptr;
    TemplateChart* m_templateChart = nullptr;
    QCheckBox* m_only550 = nullptr;
    QCheckBox* m_bouncesOnly = nullptr;
    QToolButton* m_back = nullptr;
    QToolButton* m_reset = nullptr;
    ElidedLabel* m_trail = nullptr;
    QLabel* m_count = nullptr;
    QSplitter* m_outer = nullptr;
    QSplitter* m_vertical = nullptr;
    QSplitter* m_charts = nullptr;
    QLabel* m_legend = nullptr; // the charts' families and marks, below them
    QStringList m_legendFamilies;
    QSplitter* m_bottom = nullptr;
    quint64 m_chartsGeneration = 0;
    quint64 m_chartsShown = 0;
};
