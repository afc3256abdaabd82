// SPDX-License-Identifier: MIT
#include "sourcesview.h"

#include "charts/passratechart.h"
#include "models/sourcetablemodel.h"
#include "models/workspacesession.h"

#include <QAction>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace
{

struct Sources {
    quint64 generation = 0;
    bt::SourceReport report;
};

} // namespace

SourcesView::SourcesView(QWidget* parent)
    : QWidget(parent)
{
    setObjectName(u"sourcesView"_s);
    m_model = new SourceTableModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(SourceTableModel::SortRole);

    m_summary = new QLabel(this);
    m_summary->setObjectName(u"sourcesSummary"_s);
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);

    m_table = new QTableView(this);
    m_table->setObjectName(u"sourcesTable"_s);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(SourceTableModel::Messages, Qt::DescendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->setVisible(false);
    m_table->setWordWrap(false);
    QHeaderView* header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    // The From domains may be many: they take what is left, the flags keep their words.
    header->setSectionResizeMode(SourceTableModel::FromDomains, QHeaderView::Stretch);
    header->setStretchLastSection(false);
    header->setMinimumSectionSize(40);
    m_table->setToolTip(tr("Select a source to chart its days; select none (Esc) for all sources"));

    m_chart = new PassRateChart(this);
    m_chart->setMinimumHeight(180);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(m_chart);
    // Sources are few (one row per sending IP) and the chart needs height for its two axes:
    // the chart takes most of the room.
    m_table->setMinimumHeight(110);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setSizes({200, 300});
    split->setChildrenCollapsible(false);

    auto* filled = new QWidget(this);
    auto* filledLayout = new QVBoxLayout(filled);
    filledLayout->setContentsMargins(0, 0, 0, 0);
    filledLayout->addWidget(m_summary);
    filledLayout->addWidget(split, 1);

    m_empty = new QLabel(this);
    m_empty->setObjectName(u"sourcesEmpty"_s);
    m_empty->setTextFormat(Qt::PlainText);
    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setMargin(24);
    m_empty->setText(tr("This workspace holds no DMARC aggregate reports.\n\n"
                        "Import the reports receivers send to the rua= address of your DMARC record "
                        "(File > Import, Ctrl+I, or drop them on the window): .xml, .xml.gz or .zip files, "
                        "the report e-mails, or the whole rua mailbox as an mbox or maildir folder.\n\n"
                        "Each sending IP then shows its DMARC, SPF and DKIM pass rates, and the pass rate "
                        "per day beside the authentication bounces."));

    m_pages = new QStackedWidget(this);
    m_pages->addWidget(filled);
    m_pages->addWidget(m_empty);
    m_pages->setCurrentWidget(m_empty);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_pages);

    // Esc in the table goes back to all sources.
    auto* all = new QAction(tr("All sources"), m_table);
    all->setShortcut(QKeySequence(Qt::Key_Escape));
    all->setShortcutContext(Qt::WidgetShortcut);
    connect(all, &QAction::triggered, m_table, &QTableView::clearSelection);
    m_table->addAction(all);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &SourcesView::showChartForSelection);
    // A reset (new data) drops the selection without a selectionChanged for it.
    connect(m_model, &QAbstractItemModel::modelReset, this, &SourcesView::showChartForSelection);
}

void SourcesView::setSession(WorkspaceSession* session)
{
    m_session = session;
    refresh();
}

bool SourcesView::showsEmptyState() const
{
    return m_pages->currentWidget() == m_empty;
}

QString SourcesView::emptyText() const
{
    return m_empty->text();
}

void SourcesView::refresh()
{
    const auto gen = ++m_generation;
    if (!m_session) {
        m_allDays.clear();
        m_model->setSources({});
        m_pages->setCurrentWidget(m_empty);
        return;
    }
    m_session->run<Sources>(
        WorkspaceSession::Lane::Analysis, this,
        [gen](bt::Workspace& ws) {
            Sources s;
            s.generation = gen;
            s.report = bt::sourceReport(ws);
            return s;
        },
        [this](Sources s) {
            if (s.generation != m_generation)
                return;
            const auto& r = s.report;
            std::int64_t messages = 0, unverified = 0, drops = 0;
            for (const auto& src : r.sources) {
                messages += src.messages;
                unverified += src.unverified ? 1 : 0;
                drops += src.drops.empty() ? 0 : 1;
            }
            m_allDays = r.days;
            m_model->setSources(std::move(s.report.sources));
            m_pages->setCurrentWidget(m_model->rowCount() > 0 ? m_pages->widget(0) : m_empty);
            QString summary = tr("%n DMARC aggregate report(s)", nullptr, static_cast<int>(r.reports)) + u", "_s
                + tr("%n sending IP(s)", nullptr, m_model->rowCount()) + u", "_s
                + tr("%n message(s)", nullptr, static_cast<int>(messages));
            if (!r.days.empty())
                summary += u", "_s
                    + tr("%1 to %2")
                          .arg(QString::fromStdString(r.days.front().day), QString::fromStdString(r.days.back().day));
            if (unverified > 0)
                summary += u" \u2014 "_s
                    + tr("%n unverified source(s), highlighted", nullptr, static_cast<int>(unverified));
            if (drops > 0)
                summary += u" \u2014 "_s + tr("%n source(s) with a pass-rate drop", nullptr, static_cast<int>(drops));
            m_summary->setText(summary);
            Q_EMIT sourcesUpdated();
        });
}

void SourcesView::showChartForSelection()
{
    const QModelIndexList rows
        = m_table->selectionModel() ? m_table->selectionModel()->selectedRows() : QModelIndexList();
    if (rows.isEmpty()) {
        m_chart->setDays(m_allDays, tr("DMARC pass rate and auth bounces per day (UTC), all sources"));
        return;
    }
    const int row = m_proxy->mapToSource(rows.front()).row();
    if (row < 0 || row >= m_model->rowCount())
        return;
    const auto& s = m_model->sources()[static_cast<std::size_t>(row)];
    QString title = tr("DMARC pass rate and auth bounces per day (UTC), %1").arg(QString::fromStdString(s.ip));
    // A source's bars count the bounces that name its IP; many exports name none (SES), and
    // empty bars would read as "no auth bounces".
    if (std::none_of(s.days.begin(), s.days.end(), [](const bt::DmarcDay& d) { return d.authBounces > 0; }))
        title += u" \u2014 "_s + tr("no bounce names this IP");
    m_chart->setDays(s.days, title);
}
