// SPDX-License-Identifier: MIT
#include "triageview.h"

#include "analysis.h"
#include "charts/providerchart.h"
#include "charts/templatechart.h"
#include "charts/timechart.h"
#include "classifier.h"
#include "fields.h"
#include "models/drilldown.h"
#include "models/eventtablemodel.h"
#include "models/workspacesession.h"
#include "utils/familycolors.h"
#include "utils/plaintext.h"
#include "widgets/detailspane.h"
#include "widgets/elidedlabel.h"
#include "widgets/filterpanel.h"

#include <QCheckBox>
#include <QDataStream>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIODevice>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QSet>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace
{

struct ChartData {
    quint64 generation = 0;
    bt::ChartAnswer answer;
    std::vector<bt::Listing> listings; ///< blocklist listings of the monitored names, drawn as bands
};

} // namespace

TriageView::TriageView(std::shared_ptr<const bt::Classifier> classifier, DrillDown* drillDown, QWidget* parent)
    : QWidget(parent)
    , m_classifier(std::move(classifier))
    , m_drill(drillDown)
{
    setObjectName(u"triageView"_s);
    m_model = new EventTableModel(this);
    m_model->setKnowledge(&m_classifier->knowledge());

    m_panel = new FilterPanel(this);
    auto* panelScroll = new QScrollArea(this);
    panelScroll->setWidget(m_panel);
    panelScroll->setWidgetResizable(true);
    panelScroll->setFrameShape(QFrame::NoFrame);
    // The panel is as wide as its fields need; only its height scrolls (small screens).
    panelScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    panelScroll->setMinimumWidth(m_panel->minimumSizeHint().width()
                                 + panelScroll->verticalScrollBar()->sizeHint().width());

    QLayout* trail = makeTrail();
    makeCharts();
    makeTableAndDetails();

    m_vertical = new QSplitter(Qt::Vertical, this);
    m_vertical->setObjectName(u"verticalSplitter"_s);
    // One legend for the charts, outside their plots, that wraps: inside a third of the window
    // ten families were colour squares without words.
    m_legend = new QLabel(this);
    m_legend->setObjectName(u"chartLegend"_s);
    m_legend->setWordWrap(true);
    m_legend->setTextFormat(Qt::RichText); // built from the fixed family words, escaped all the same
    m_legend->setContentsMargins(6, 0, 6, 2);
    auto* chartsBox = new QWidget(this);
    auto* chartsLayout = new QVBoxLayout(chartsBox);
    chartsLayout->setContentsMargins(0, 0, 0, 0);
    chartsLayout->setSpacing(0);
    chartsLayout->addWidget(m_charts, 1);
    chartsLayout->addWidget(m_legend);
    m_vertical->addWidget(chartsBox);
    m_vertical->addWidget(m_bottom);
    m_vertical->setStretchFactor(0, 1);
    m_vertical->setStretchFactor(1, 1);

    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addLayout(trail);
    rightLayout->addWidget(m_vertical, 1);

    m_outer = new QSplitter(Qt::Horizontal, this);
    m_outer->setObjectName(u"outerSplitter"_s);
    m_outer->addWidget(panelScroll);
    m_outer->addWidget(right);
    m_outer->setStretchFactor(1, 1);
    m_outer->setSizes({panelScroll->minimumWidth(), 1280 - panelScroll->minimumWidth()});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_outer);

    connectSignals();
}

QLayout* TriageView::makeTrail()
{
    // The drill-down trail: Back, Reset, the filter in words, the count.
    m_back = new QToolButton(this);
    m_back->setObjectName(u"backButton"_s);
    m_back->setText(tr("Back"));
    m_back->setIcon(QIcon::fromTheme(u"go-previous"_s));
    m_back->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_back->setToolTip(tr("Undo the last drill-down (Alt+Left)"));
    m_back->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Left));
    m_reset = new QToolButton(this);
    m_reset->setObjectName(u"resetButton"_s);
    m_reset->setText(tr("Reset"));
    m_reset->setIcon(QIcon::fromTheme(u"edit-clear-all"_s));
    m_reset->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_reset->setToolTip(tr("Show all events"));
    m_trail = new ElidedLabel(this);
    m_trail->setObjectName(u"trailLabel"_s);
    m_count = new QLabel(this);
    m_count->setObjectName(u"countLabel"_s);
    m_only550 = new QCheckBox(tr("Provider chart: &550 only"), this);
    m_only550->setObjectName(u"only550Check"_s);
    m_only550->setChecked(true);
    m_only550->setToolTip(tr("Count only replies with the basic code 550 in the provider chart"));
    m_bouncesOnly = new QCheckBox(tr("Table: &bounces only"), this);
    m_bouncesOnly->setObjectName(u"bouncesOnlyCheck"_s);
    m_bouncesOnly->setChecked(true);
    m_bouncesOnly->setToolTip(tr("List only bounces in the table; deliveries, deferrals, complaints and "
                                 "auto-replies still count in the charts. Untick to list every event."));
    auto* trail = new QHBoxLayout;
    trail->addWidget(m_back);
    trail->addWidget(m_reset);
    trail->addWidget(m_trail, 1);
    trail->addWidget(m_count);
    trail->addSpacing(12);
    trail->addWidget(m_bouncesOnly);
    trail->addSpacing(12);
    trail->addWidget(m_only550);
    return trail;
}

void TriageView::makeCharts()
{
    m_providerChart = new ProviderChart(this);
    m_timeChart = new TimeChart(this);
    m_templateChart = new TemplateChart(this);
    m_charts = new QSplitter(Qt::Horizontal, this);
    m_charts->setObjectName(u"chartsSplitter"_s);
    m_charts->addWidget(m_providerChart);
    m_charts->addWidget(m_timeChart);
    m_charts->addWidget(m_templateChart);
    m_charts->setStretchFactor(0, 5);
    m_charts->setStretchFactor(1, 4);
    m_charts->setStretchFactor(2, 4);
    for (QWidget* w : {static_cast<QWidget*>(m_providerChart), static_cast<QWidget*>(m_timeChart),
                       static_cast<QWidget*>(m_templateChart)})
        w->setMinimumSize(220, 260);
}

void TriageView::makeTableAndDetails()
{
    m_table = new QTableView(this);
    m_table->setObjectName(u"eventsTable"_s);
    m_table->setModel(m_model);
    m_table->setSortingEnabled(true);
    m_table->horizontalHeader()->setSortIndicator(0, Qt::DescendingOrder);
    // The event type next to the time, where it shows at 1280 px (it was the last column, past
    // the reply): with every event listed, a delivery must not pass for a bounce.
    m_table->horizontalHeader()->moveSection(static_cast<int>(bt::EventColumn::Type), 1);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setVisible(false);
    // Fixed row heights: the view never measures a million rows.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionsMovable(true);
    const int widths[] = {125, 170, 110, 100, 75, 80, 100, 50, 90, 100, 90, 420, 70};
    for (int c = 0; c < bt::kEventColumnCount; ++c)
        m_table->setColumnWidth(c, widths[c]);

    m_details = new DetailsPane(m_classifier, this);
    m_bottom = new QSplitter(Qt::Horizontal, this);
    m_bottom->setObjectName(u"bottomSplitter"_s);
    m_bottom->addWidget(m_table);
    m_bottom->addWidget(m_details);
    m_bottom->setStretchFactor(0, 3);
    m_bottom->setStretchFactor(1, 2);
    // The details' tabs (the DNS checks' fields) would claim more width than the table by
    // their size hints; the table comes first.
    m_details->setMinimumWidth(280);
    m_bottom->setSizes({600, 400});
}

void TriageView::connectSignals()
{
    connect(m_drill, &DrillDown::filterChanged, this, &TriageView::onFilterChanged);
    connect(m_back, &QToolButton::clicked, m_drill, &DrillDown::back);
    connect(m_reset, &QToolButton::clicked, m_drill, &DrillDown::reset);
    connect(m_panel, &FilterPanel::applied, m_drill, &DrillDown::push);
    connect(m_panel, &FilterPanel::clearRequested, m_drill, &DrillDown::reset);
    connect(m_only550, &QCheckBox::toggled, this, &TriageView::loadCharts);
    connect(m_bouncesOnly, &QCheckBox::toggled, this, [this] { m_model->setFilter(tableFilter()); });

    connect(m_providerChart, &ProviderChart::barClicked, this, [this](const QString& provider, const QString& family) {
        const bool only550 = m_only550->isChecked();
        m_drill->narrow([&](bt::EventFilter& f) {
            f.providers = {provider.toStdString()};
            if (!family.isEmpty())
                f.families = {family.toStdString()};
            if (only550)
                f.basicCode = 550;
        });
    });
    connect(m_timeChart, &TimeChart::bucketClicked, this, [this](const QString& bucket, const QString& family) {
        const auto [from, to] = bt::bucketTimes(bucket.toStdString());
        if (from.empty())
            return;
        m_drill->narrow([&](bt::EventFilter& f) {
            f.from = from;
            f.to = to;
            if (!family.isEmpty())
                f.families = {family.toStdString()};
        });
    });
    connect(m_templateChart, &TemplateChart::templateClicked, this,
            [this](qint64 id) { m_drill->narrow([&](bt::EventFilter& f) { f.templateId = id; }); });
    connect(m_details, &DetailsPane::templateRequested, this,
            [this](qint64 id) { m_drill->narrow([&](bt::EventFilter& f) { f.templateId = id; }); });
    connect(m_details, &DetailsPane::eventRequested, m_details, &DetailsPane::loadEvent);

    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (current.isValid())
                    m_details->loadEvent(m_model->eventId(current.row()));
            });
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        // The full reply: the details pane's first tab, focused so it can be read and copied.
        m_details->loadEvent(m_model->eventId(index.row()));
        m_details->tabs()->setCurrentIndex(0);
        m_details->replyEdit()->setFocus();
    });
    connect(m_model, &EventTableModel::countChanged, this, [this](qint64 n) {
        const bool bounces = tableFilter().eventTypes == std::vector<std::string> {"bounce"};
        const QString number = QLocale().toString(n);
        m_count->setText(n == 1 ? (bounces ? tr("%1 bounce") : tr("%1 event")).arg(number)
                                : (bounces ? tr("%1 bounces") : tr("%1 events")).arg(number));
        // Keep the details in step: the first row is selected when there is one.
        if (n > 0 && m_session)
            m_table->selectRow(0);
        else
            m_details->loadEvent(0);
    });
    connect(m_model, &EventTableModel::pageLoaded, this, [this](int first, int) {
        // The first page of a new snapshot arrived after selectRow(0) found no id yet.
        if (first == 0 && m_table->currentIndex().row() == 0 && !m_details->eventId())
            m_details->loadEvent(m_model->eventId(0));
    });
    updateTrail();
}

TriageView::~TriageView() = default;

void TriageView::setSession(WorkspaceSession* session)
{
    m_session = session;
    m_model->setSession(session);
    m_details->setSession(session);
    m_model->setFilter(tableFilter());
    m_panel->showFilter(m_drill->filter());
    loadChoices();
    loadCharts();
    updateTrail();
}

void TriageView::refresh()
{
    m_model->setFilter(tableFilter());
    loadChoices();
    loadCharts();
}

bt::EventFilter TriageView::tableFilter() const
{
    // The drill-down's filter, narrowed to bounces unless the user chose event types or asked
    // for every event: a delivery's "250 2.0.0 OK" is not what a triage table opens on.
    bt::EventFilter f = m_drill->filter();
    if (m_bouncesOnly->isChecked() && f.eventTypes.empty())
        f.eventTypes = {"bounce"};
    return f;
}

bool TriageView::bouncesOnly() const
{
    return m_bouncesOnly->isChecked();
}

void TriageView::setBouncesOnly(bool on)
{
    m_bouncesOnly->setChecked(on);
}

bool TriageView::only550() const
{
    return m_only550->isChecked();
}

void TriageView::setOnly550(bool on)
{
    m_only550->setChecked(on);
}

void TriageView::onFilterChanged()
{
    const auto& f = m_drill->filter();
    m_panel->showFilter(f);
    m_model->setFilter(tableFilter());
    loadCharts();
    updateTrail();
}

void TriageView::updateTrail()
{
    m_back->setEnabled(m_drill->canGoBack());
    m_reset->setEnabled(m_drill->canGoBack() || !m_drill->filter().empty());
    const QString text = btui::describeFilter(m_drill->filter());
    m_trail->setFullText(tr("Showing: %1").arg(text));
}

void TriageView::loadChoices()
{
    if (!m_session)
        return;
    m_session->run<bt::FilterChoices>(
        WorkspaceSession::Lane::Analysis, this,
        [session = m_session](bt::Workspace& ws) { return session->triage().choices(ws); },
        [this](bt::FilterChoices c) {
            for (const auto& [field, values] : c.values)
                m_panel->setChoices(field, values);
            m_panel->setTimeSpan(QDateTime::fromString(QString::fromStdString(c.first), Qt::ISODate),
                                 QDateTime::fromString(QString::fromStdString(c.last), Qt::ISODate));
            m_panel->showFilter(m_drill->filter());
        });
}

void TriageView::loadCharts()
{
    if (!m_session)
        return;
    const auto gen = ++m_chartsGeneration;
    const auto filter = m_drill->filter();
    const bool only550 = m_only550->isChecked();
    const auto done = [this](ChartData c) {
        if (c.generation != m_chartsGeneration)
            return;
        const bt::ChartAnswer& d = c.answer;
        const bool onlyCode550 = m_only550->isChecked() && !m_drill->filter().basicCode;
        m_providerChart->setRows(
            d.providers,
            onlyCode550
                ? tr("550 rejections")
                : (m_drill->filter().basicCode ? tr("%1 replies").arg(*m_drill->filter().basicCode) : tr("Bounces")));
        m_timeChart->setSeries(d.series, d.incidents, d.hourly, c.listings);
        m_templateChart->setRows(d.templates);
        updateLegend(d.providers, d.series, !d.incidents.empty(), !m_timeChart->listingBands().isEmpty());
        m_chartsShown = c.generation;
        if (!d.incidents.empty())
            Q_EMIT statusMessage(tr("%n incident(s) in view", nullptr, static_cast<int>(d.incidents.size())));
        Q_EMIT chartsUpdated();
    };
    // Answered from memory (a cube already built) on its own lane, so a drill-down never waits
    // behind a long query; the first chart of a workspace or of a new text search builds the cube
    // on the analysis lane, in one pass over the events.
    WorkspaceSession* session = m_session;
    const auto lane = session->triage().quick(filter) ? WorkspaceSession::Lane::Cube : WorkspaceSession::Lane::Analysis;
    m_session->run<ChartData>(
        lane, this,
        [gen, session, filter, only550](bt::Workspace& ws) {
            return ChartData {gen, session->triage().charts(ws, filter, only550), bt::listingHistory(ws)};
        },
        done);
}

QByteArray TriageView::saveState() const
{
    QByteArray out;
    QDataStream s(&out, QIODevice::WriteOnly);
    s << m_outer->saveState() << m_vertical->saveState() << m_charts->saveState() << m_bottom->saveState()
      << m_table->horizontalHeader()->saveState() << m_only550->isChecked() << m_bouncesOnly->isChecked();
    return out;
}

void TriageView::restoreState(const QByteArray& state)
{
    QDataStream s(state);
    QByteArray outer, vertical, charts, bottom, header;
    bool only550 = true;
    s >> outer >> vertical >> charts >> bottom >> header >> only550;
    if (s.status() != QDataStream::Ok)
        return;
    m_outer->restoreState(outer);
    m_vertical->restoreState(vertical);
    m_charts->restoreState(charts);
    m_bottom->restoreState(bottom);
    m_table->horizontalHeader()->restoreState(header);
    m_only550->setChecked(only550);
    // Added later: a state saved before it has no such field and keeps the default.
    bool bouncesOnly = true;
    s >> bouncesOnly;
    if (s.status() == QDataStream::Ok)
        m_bouncesOnly->setChecked(bouncesOnly);
}

void TriageView::updateLegend(const std::vector<bt::GroupRow>& providers, const std::vector<bt::TimeBucket>& series,
                              bool incidents, bool listed)
{
    QSet<QString> present;
    bool sent = false, deliveries = false;
    for (const auto& r : providers) {
        sent = sent || r.rateBasis != "share"; // the 1 % and 3 % lines are drawn only on rates of sent
        for (const auto& [family, n] : r.families)
            if (n > 0)
                present.insert(QString::fromStdString(family));
    }
    for (const auto& b : series) {
        deliveries = deliveries || b.deliveries > 0;
        for (const auto& [family, n] : b.families)
            if (n > 0)
                present.insert(QString::fromStdString(family));
    }
    QStringList items;
    m_legendFamilies.clear();
    for (const QString& family : btui::families()) {
        if (!present.contains(family))
            continue;
        m_legendFamilies.append(family);
        items.append(u"<span style=\"color:%1\">\u25A0</span>&nbsp;%2"_s.arg(btui::familyColor(family).name(),
                                                                             family.toHtmlEscaped()));
    }
    if (sent)
        items.append(tr("<span style=\"color:#d98c00\">\u2506</span>&nbsp;1&nbsp;% and "
                        "<span style=\"color:#c01c28\">\u2506</span>&nbsp;3&nbsp;% of sent"));
    if (deliveries)
        items.append(tr("\u2014&nbsp;deliveries"));
    if (incidents)
        items.append(tr("<span style=\"color:#c01c28\">\u25B2</span>&nbsp;incident, its&nbsp;span&nbsp;shaded"));
    if (listed)
        items.append(tr("<span style=\"color:#613583\">\u25A0</span>&nbsp;listed&nbsp;on&nbsp;a&nbsp;blocklist"));
    // Non-breaking inside an item, ordinary spaces between: the label wraps between items only.
    m_legend->setText(items.join(u"&nbsp;&nbsp; "_s));
    m_legend->setVisible(!items.isEmpty());
}
