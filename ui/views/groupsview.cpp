// SPDX-License-Identifier: MIT
#include "groupsview.h"

#include "charts/providerchart.h"
#include "models/drilldown.h"
#include "models/grouptablemodel.h"
#include "models/workspacesession.h"
#include "utils/fieldwords.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace
{

struct Groups {
    quint64 generation = 0;
    bt::GroupBy by = bt::GroupBy::Provider;
    std::vector<bt::GroupRow> rows;
    QSet<QString> incidents;
};

} // namespace

GroupsView::GroupsView(DrillDown* drillDown, QWidget* parent)
    : QWidget(parent)
    , m_drill(drillDown)
{
    setObjectName(u"groupsView"_s);
    m_model = new GroupTableModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(GroupTableModel::SortRole);

    m_by = new QComboBox(this);
    m_by->setObjectName(u"groupByCombo"_s);
    // Every grouping of the field table but hours: a table of hours is a chart's job.
    for (const bt::GroupBy by : bt::groupings())
        if (by != bt::GroupBy::Hour)
            m_by->addItem(btui::groupLabel(by), static_cast<int>(by));
    m_note = new QLabel(this);
    m_note->setTextFormat(Qt::PlainText);
    m_note->setWordWrap(true);
    auto* top = new QHBoxLayout;
    auto* label = new QLabel(tr("&Group by:"), this);
    label->setBuddy(m_by);
    top->addWidget(label);
    top->addWidget(m_by);
    top->addWidget(m_note, 1);

    m_table = new QTableView(this);
    m_table->setObjectName(u"groupsTable"_s);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(GroupTableModel::Bounces, Qt::DescendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->setVisible(false);
    // The numbers take the width of their header or value, the families what is left: at fixed
    // widths the Incidents column was cut off at 1280 px.
    QHeaderView* header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(GroupTableModel::Key, QHeaderView::Interactive);
    header->setSectionResizeMode(GroupTableModel::Families, QHeaderView::Stretch);
    header->setMinimumSectionSize(40);
    m_table->setColumnWidth(GroupTableModel::Key, 220);
    m_table->setWordWrap(false);
    header->setStretchLastSection(false);
    m_table->setToolTip(tr("Double-click (or Enter) a group to see its events"));

    // The same chart as the triage view's providers, for whatever the groups are.
    m_chart = new ProviderChart(this);
    m_chart->setObjectName(u"groupsChart"_s);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_chart);
    split->addWidget(m_table);
    // Room for a few bars and their axis even on a 640 px high window; the table takes the rest.
    m_chart->setMinimumHeight(200);
    m_table->setMinimumHeight(160);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setSizes({300, 450});
    split->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(split, 1);

    connect(m_by, &QComboBox::currentIndexChanged, this, &GroupsView::refresh);
    connect(m_drill, &DrillDown::filterChanged, this, &GroupsView::refresh);
    connect(m_table, &QTableView::activated, this, &GroupsView::drillInto);
    m_table->viewport()->installEventFilter(this);
    // The numbers' widths follow their contents once the view has laid the new rows out.
    connect(m_model, &QAbstractItemModel::modelReset, this,
            [this] { QMetaObject::invokeMethod(this, &GroupsView::fitFamiliesColumn, Qt::QueuedConnection); });
    connect(m_chart, &ProviderChart::barClicked, this, [this](const QString& key, const QString&) {
        // A bar is a group of the table: drill into it as its row would (a template by its id).
        for (int row = 0; row < m_proxy->rowCount(); ++row) {
            const QModelIndex index = m_proxy->index(row, GroupTableModel::Key);
            if (index.data(GroupTableModel::KeyRole).toString() == key) {
                drillInto(index);
                return;
            }
        }
    });
}

bool GroupsView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_table->viewport() && event->type() == QEvent::Resize)
        fitFamiliesColumn();
    return QWidget::eventFilter(watched, event);
}

/// The families' column takes what the numbers leave, but never less than its header and a
/// family or two ("reputation 120, address 31"): at 1024 px it was squeezed to its swatch, its
/// words and header cut off. Below that it keeps that width and the table scrolls sideways.
void GroupsView::fitFamiliesColumn()
{
    QHeaderView* header = m_table->horizontalHeader();
    const QFontMetrics fm(m_table->font());
    const int least
        = std::max(fm.horizontalAdvance(u"reputation 120, address 31"_s),
                   header->fontMetrics().horizontalAdvance(
                       m_model->headerData(GroupTableModel::Families, Qt::Horizontal, Qt::DisplayRole).toString()))
        + fm.height() + 16; // the swatch and the cell's margins
    int others = 0;
    for (int c = 0; c < header->count(); ++c)
        if (c != GroupTableModel::Families && !header->isSectionHidden(c))
            others += header->sectionSize(c);
    const bool room = m_table->viewport()->width() - others >= least;
    header->setSectionResizeMode(GroupTableModel::Families, room ? QHeaderView::Stretch : QHeaderView::Interactive);
    if (!room)
        header->resizeSection(GroupTableModel::Families, least);
}

void GroupsView::drillInto(const QModelIndex& index)
{
    const QString key = index.data(GroupTableModel::KeyRole).toString();
    const auto by = groupBy();
    const qint64 templateId = index.data(GroupTableModel::TemplateIdRole).toLongLong();
    m_drill->narrow([&](bt::EventFilter& f) { bt::narrowToGroup(f, by, key.toStdString(), templateId); });
    Q_EMIT drilledInto(key);
}

void GroupsView::setSession(WorkspaceSession* session)
{
    m_session = session;
    refresh();
}

void GroupsView::setGroupBy(bt::GroupBy by)
{
    m_by->setCurrentIndex(m_by->findData(static_cast<int>(by)));
}

bt::GroupBy GroupsView::groupBy() const
{
    return static_cast<bt::GroupBy>(m_by->currentData().toInt());
}

void GroupsView::refresh()
{
    if (!m_session) {
        m_model->setRows(groupBy(), {});
        m_chart->setRows({}, tr("Bounces"));
        return;
    }
    const auto gen = ++m_generation;
    const auto by = groupBy();
    const auto filter = m_drill->filter();
    m_note->setText(tr("Filter: %1").arg(btui::describeFilter(filter)));
    m_session->run<Groups>(
        WorkspaceSession::Lane::Analysis, this,
        [gen, by, filter, session = m_session](bt::Workspace& ws) {
            Groups g;
            g.generation = gen;
            g.by = by;
            g.rows = session->triage().groups(ws, by, filter);
            if (by == bt::GroupBy::Provider || by == bt::GroupBy::Ip)
                for (const auto& i : session->triage().incidents(ws, by, filter))
                    g.incidents.insert(QString::fromStdString(i.key));
            return g;
        },
        [this](Groups g) {
            if (g.generation != m_generation)
                return;
            m_chart->setGrouping(g.by);
            m_chart->setRows(g.rows, tr("Bounces"));
            m_model->setRows(g.by, std::move(g.rows), g.incidents);
            Q_EMIT groupsUpdated();
        });
}
