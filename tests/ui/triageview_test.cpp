// SPDX-License-Identifier: MIT
// Offscreen tests of the triage window on a copy of the bundled sample workspace (the models
// alone: models/models_test.cpp): a real click on a provider's bar narrowing the table, the
// details pane showing the full reply, Back, and an import through the window.
#include "analysis.h"
#include "charts/providerchart.h"
#include "charts/templatechart.h"
#include "charts/timechart.h"
#include "classifier.h"
#include "importer.h"
#include "knowledge.h"
#include "mainwindow.h"
#include "models/drilldown.h"
#include "models/eventtablemodel.h"
#include "models/grouptablemodel.h"
#include "models/workspacesession.h"
#include "query.h"
#include "replytemplate.h"
#include "sqlite.h"
#include "uitestsupport.h"
#include "utils/plaintext.h"
#include "views/groupsview.h"
#include "views/triageview.h"
#include "widgets/detailspane.h"
#include "widgets/diagnosiscard.h"
#include "widgets/elidedlabel.h"
#include "widgets/filterpanel.h"

#include <QAbstractItemModelTester>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QCheckBox>
#include <QDateTimeEdit>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QHorizontalStackedBarSeries>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>
#include <QTreeWidget>

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

using namespace Qt::StringLiterals;

namespace
{

using uitest::classifier;
using uitest::kWaitMs;
using uitest::SampleCopy;
using uitest::waitForSnapshot;

QPoint barCentre(ProviderChart* chart, int index, QBarSet* set)
{
    auto* series = qobject_cast<QHorizontalStackedBarSeries*>(set->parent());
    // Stacked: the segment runs from the sum of the sets below it to that plus its value.
    qreal below = 0;
    for (QBarSet* s : series->barSets()) {
        if (s == set)
            break;
        below += s->at(index);
    }
    const QPointF value(below + set->at(index) / 2.0, index);
    const QPointF scene = chart->chart()->mapToPosition(value, series);
    return chart->mapFromScene(scene);
}

/// Shows the window at 1280×800, opens the sample copy and waits until its charts are drawn.
bool openWithCharts(MainWindow& window, const SampleCopy& sample)
{
    window.resize(1280, 800);
    window.show();
    QSignalSpy charts(window.triageView(), &TriageView::chartsUpdated);
    return window.openWorkspace(sample.path, false) && charts.wait(kWaitMs);
}

/// Imports one bounce email into a new workspace at `path`; its one event, or nullopt when the
/// import did not give exactly one.
std::optional<bt::EventRow> importOnlyEvent(const std::filesystem::path& eml, const QString& path)
{
    bt::Workspace ws(path.toStdString());
    if (bt::importPath(ws, eml.string(), *classifier()).counts.imported != 1)
        return std::nullopt;
    auto rows = bt::eventPage(ws, {}, bt::EventColumn::Time, true, 0, 10);
    return rows.size() == 1 ? std::optional<bt::EventRow>(std::move(rows[0])) : std::nullopt;
}

/// Shows the window at 1280×800 with the workspace at `path` (one event) and that event in the
/// details pane; null when it is not shown in time.
DetailsPane* showOnlyEvent(MainWindow& window, const QString& path)
{
    window.resize(1280, 800);
    window.show();
    if (!window.openWorkspace(path, false) || !waitForSnapshot(window.triageView()->model()))
        return nullptr;
    DetailsPane* details = window.triageView()->details();
    bt::Workspace direct(path.toStdString(), bt::Workspace::Mode::View);
    const auto id = bt::eventPage(direct, {}, bt::EventColumn::Time, true, 0, 1).at(0).id;
    QSignalSpy shown(details, &DetailsPane::eventShown);
    details->loadEvent(id);
    while (details->eventId() != id && shown.wait(kWaitMs)) { }
    return details->eventId() == id ? details : nullptr;
}

TEST(TriageViewTest, ClickingAProviderBarNarrowsTheTableDetailsShowTheReplyAndBackUndoes)
{
    SampleCopy sample;
    MainWindow window(classifier());
    window.resize(1280, 800);
    window.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&window));
    TriageView* triage = window.triageView();
    QSignalSpy charts(triage, &TriageView::chartsUpdated);
    ASSERT_TRUE(window.openWorkspace(sample.path, false));
    EXPECT_EQ(window.tabs()->currentWidget(), triage);
    ASSERT_TRUE(charts.wait(kWaitMs));
    ASSERT_TRUE(waitForSnapshot(triage->model()));
    const qint64 all = triage->model()->totalCount();

    ProviderChart* chart = triage->providerChart();
    ASSERT_FALSE(chart->providers().isEmpty());
    // The top provider is drawn last (highest) on the category axis: index size-1.
    const QString provider = chart->providers().constFirst();
    QBarSet* address = chart->barSet(u"address"_s);
    ASSERT_NE(address, nullptr);
    const int index = static_cast<int>(chart->providers().size()) - 1;
    ASSERT_GT(address->at(index), 0.0);

    QSignalSpy clicked(chart, &ProviderChart::barClicked);
    QSignalSpy filterChanged(window.drillDown(), &DrillDown::filterChanged);
    const QPoint at = barCentre(chart, index, address);
    QTest::mouseClick(chart->viewport(), Qt::LeftButton, {}, at);
    ASSERT_EQ(clicked.count(), 1) << "no bar at " << at.x() << "," << at.y();
    EXPECT_EQ(clicked.at(0).at(0).toString(), provider);
    EXPECT_EQ(clicked.at(0).at(1).toString(), u"address"_s);
    ASSERT_EQ(filterChanged.count(), 1);
    ASSERT_TRUE(waitForSnapshot(triage->model()));

    // The table holds only that provider's events, as many as SQL counts for the filter.
    EventTableModel* model = triage->model();
    bt::Workspace direct(sample.file());
    EXPECT_EQ(model->totalCount(), bt::countEvents(direct, window.drillDown()->filter()));
    ASSERT_GT(model->rowCount(), 0);
    EXPECT_LT(model->totalCount(), all);
    const int providerColumn = static_cast<int>(bt::EventColumn::Provider);
    for (int row = 0; row < std::min(model->rowCount(), EventTableModel::kPageSize); ++row)
        ASSERT_EQ(model->index(row, providerColumn).data().toString(), provider) << "row " << row;
    // The filter panel shows the drill-down.
    EXPECT_EQ(triage->filterPanel()->filter().providers, std::vector<std::string> {provider.toStdString()});

    // Double-clicking a row shows its full reply in the details pane.
    QTableView* table = triage->table();
    const int row = std::min(3, model->rowCount() - 1);
    const QModelIndex cell = model->index(row, static_cast<int>(bt::EventColumn::Reply));
    const QString fullReply = cell.data(EventTableModel::FullReplyRole).toString();
    ASSERT_FALSE(fullReply.isEmpty());
    QSignalSpy shown(triage->details(), &DetailsPane::eventShown);
    table->scrollTo(cell);
    const QRect rect = table->visualRect(cell);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, rect.center());
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, rect.center());
    ASSERT_TRUE(shown.wait(kWaitMs) || triage->details()->eventId() == model->eventId(row));
    while (triage->details()->eventId() != model->eventId(row) && shown.wait(kWaitMs)) { }
    EXPECT_EQ(triage->details()->eventId(), model->eventId(row));
    EXPECT_EQ(triage->details()->replyText(), fullReply);
    EXPECT_FALSE(triage->details()->rawEdit()->toPlainText().isEmpty());

    // Back: every event again.
    QTest::mouseClick(triage->findChild<QWidget*>(u"backButton"_s), Qt::LeftButton);
    ASSERT_TRUE(waitForSnapshot(model));
    EXPECT_TRUE(window.drillDown()->filter().empty());
    EXPECT_EQ(model->totalCount(), all);
}

TEST(TriageViewTest, TheTableListsBouncesByDefaultWithTheirTypeAndEveryEventOneClickAway)
{
    SampleCopy sample;
    MainWindow window(classifier());
    ASSERT_TRUE(openWithCharts(window, sample));
    TriageView* triage = window.triageView();
    EventTableModel* model = triage->model();
    ASSERT_TRUE(waitForSnapshot(model));
    ASSERT_TRUE(triage->bouncesOnly());

    // Every listed row is a bounce, the first selected one too; the type shows next to the time.
    const int typeColumn = static_cast<int>(bt::EventColumn::Type);
    EXPECT_EQ(triage->table()->horizontalHeader()->visualIndex(typeColumn), 1);
    ASSERT_GT(model->rowCount(), 0);
    for (int row = 0; row < std::min(model->rowCount(), EventTableModel::kPageSize); ++row)
        ASSERT_EQ(model->index(row, typeColumn).data().toString(), u"bounce"_s) << "row " << row;
    EXPECT_FALSE(model->index(0, static_cast<int>(bt::EventColumn::Codes)).data().toString().startsWith(u"250"_s));
    bt::Workspace direct(sample.file());
    bt::EventFilter bounces;
    bounces.eventTypes = {"bounce"};
    EXPECT_EQ(model->totalCount(), bt::countEvents(direct, bounces));
    EXPECT_TRUE(triage->findChild<QLabel*>(u"countLabel"_s)->text().contains(u"bounces"_s));

    // One click lists every event, deliveries among them; the charts never changed their counts.
    const quint64 charts = triage->chartsGeneration();
    QTest::mouseClick(triage->findChild<QCheckBox*>(u"bouncesOnlyCheck"_s), Qt::LeftButton);
    ASSERT_TRUE(waitForSnapshot(model));
    EXPECT_EQ(model->totalCount(), bt::countEvents(direct, {}));
    EXPECT_GT(model->totalCount(), bt::countEvents(direct, bounces)) << "the sample has deliveries";
    EXPECT_EQ(triage->chartsGeneration(), charts);

    // An event type chosen in the filter wins over the box.
    triage->setBouncesOnly(true);
    bt::EventFilter delivered;
    delivered.eventTypes = {"delivered"};
    window.drillDown()->push(delivered);
    ASSERT_TRUE(waitForSnapshot(model));
    ASSERT_GT(model->rowCount(), 0);
    EXPECT_EQ(model->index(0, typeColumn).data().toString(), u"delivered"_s);
}

TEST(TriageViewTest, MarkupInRepliesIsShownAsWrittenInAxisLabelsAndTooltips)
{
    // Templates and replies come from bounces: "<<email>>" (and an attacker's "<img src=…>")
    // must show as written, never be parsed as HTML by Qt Charts or the tooltip.
    SampleCopy sample;
    MainWindow window(classifier());
    ASSERT_TRUE(openWithCharts(window, sample));
    TriageView* triage = window.triageView();
    auto rendered = [](const QString& html) {
        QTextDocument doc;
        doc.setHtml(html);
        return doc.toPlainText();
    };
    bool sawAngle = false;
    for (QAbstractAxis* axis : triage->templateChart()->chart()->axes()) {
        auto* categories = qobject_cast<QBarCategoryAxis*>(axis);
        if (!categories)
            continue;
        for (const QString& label : categories->categories()) {
            const QString shown = rendered(label);
            // Labels are shortened to the room there is ("550 5.1.1 <<ema…"): the bracket stays.
            sawAngle = sawAngle || shown.contains(u"<e"_s);
            EXPECT_FALSE(shown.contains(u"<>"_s) || shown.contains(u" >:"_s)) << qPrintable(shown);
        }
    }
    EXPECT_TRUE(sawAngle) << "the sample's templates mask addresses as <email>; the label must show its '<'";

    const QString reply = u"550 5.7.1 <b>bold</b> <img src=\"/etc/passwd\"> rejected\nsecond line"_s;
    const QString tip = btui::plainToolTip(reply);
    EXPECT_TRUE(Qt::mightBeRichText(tip)) << "Qt must take it as rich text, so the escaping holds";
    EXPECT_EQ(rendered(tip), reply);

    // Bounces of unknown users quote the address in angle brackets.
    bt::EventFilter address;
    address.families = {"address"};
    triage->model()->setFilter(address);
    ASSERT_TRUE(waitForSnapshot(triage->model()));
    auto* model = triage->model();
    const int replyColumn = static_cast<int>(bt::EventColumn::Reply);
    bool checked = false;
    for (int row = 0; row < std::min(model->rowCount(), 200) && !checked; ++row) {
        const QString text = model->data(model->index(row, replyColumn), Qt::DisplayRole).toString();
        const QString tooltip = model->data(model->index(row, replyColumn), Qt::ToolTipRole).toString();
        if (!text.contains(u'<') || tooltip.isEmpty())
            continue;
        EXPECT_TRUE(rendered(tooltip).contains(u'<')) << qPrintable(tooltip);
        checked = true;
    }
    EXPECT_TRUE(checked) << "no address bounce with '<' on the first page of the sample";
}

TEST(TriageViewTest, TimeAndTemplateClicksDrillDown)
{
    SampleCopy sample;
    MainWindow window(classifier());
    ASSERT_TRUE(openWithCharts(window, sample));
    TriageView* triage = window.triageView();
    ASSERT_FALSE(triage->timeChart()->buckets().isEmpty());
    ASSERT_GT(triage->templateChart()->barCount(), 0);

    // A day bucket: from and to span that day.
    const QString bucket = triage->timeChart()->buckets().at(2);
    Q_EMIT triage->timeChart()->bucketClicked(bucket, u"address"_s);
    const auto& f = window.drillDown()->filter();
    EXPECT_EQ(f.from.substr(0, bucket.size()), bucket.toStdString());
    EXPECT_EQ(f.families, std::vector<std::string> {"address"});
    ASSERT_TRUE(waitForSnapshot(triage->model()));
    bt::Workspace direct(sample.file());
    EXPECT_EQ(triage->model()->totalCount(), bt::countEvents(direct, f));

    // Search through the panel: full-text over replies.
    window.drillDown()->reset();
    triage->filterPanel()->searchEdit()->setText(u"spamhaus"_s);
    QTest::keyClick(triage->filterPanel()->searchEdit(), Qt::Key_Return);
    EXPECT_EQ(window.drillDown()->filter().text, "spamhaus");
    ASSERT_TRUE(waitForSnapshot(triage->model()));
    EXPECT_EQ(triage->model()->totalCount(), bt::countEvents(direct, window.drillDown()->filter()));
}

TEST(TriageViewTest, ClickingAnIncidentMarkerDrillsIntoItsDayAndFamily)
{
    SampleCopy sample;
    MainWindow window(classifier());
    window.resize(1280, 800);
    window.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&window));
    QSignalSpy charts(window.triageView(), &TriageView::chartsUpdated);
    ASSERT_TRUE(window.openWorkspace(sample.path, false));
    ASSERT_TRUE(charts.wait(kWaitMs));
    TimeChart* chart = window.triageView()->timeChart();
    QScatterSeries* marks = nullptr;
    const auto series = chart->chart()->series();
    for (QAbstractSeries* s : series)
        if (auto* scatter = qobject_cast<QScatterSeries*>(s))
            marks = scatter;
    ASSERT_NE(marks, nullptr) << "the sample's Microsoft block is an incident";
    ASSERT_GT(marks->count(), 0);
    const QPointF point = marks->at(0);
    const QPoint at = chart->mapFromScene(chart->chart()->mapToPosition(point, marks));
    QTest::mouseClick(chart->viewport(), Qt::LeftButton, {}, at);
    const auto& f = window.drillDown()->filter();
    const QString bucket = chart->buckets().at(qRound(point.x()));
    EXPECT_EQ(QString::fromStdString(f.from).left(bucket.size()), bucket);
    EXPECT_EQ(f.families, std::vector<std::string> {"reputation"});

    // Drilled into that day the chart runs by the hour and shades the block from its first to
    // its last hour (10:00 to 15:00), one span.
    ASSERT_TRUE(charts.wait(kWaitMs));
    ASSERT_EQ(chart->spans().size(), 1);
    const auto [first, last] = chart->spans().constFirst();
    EXPECT_TRUE(chart->buckets().at(first).endsWith(u"T10"_s)) << qPrintable(chart->buckets().at(first));
    EXPECT_TRUE(chart->buckets().at(last).endsWith(u"T15"_s)) << qPrintable(chart->buckets().at(last));
}

TEST(TriageViewTest, DateFieldsOpenOnTheWorkspacesDays)
{
    SampleCopy sample;
    MainWindow window(classifier());
    ASSERT_TRUE(window.openWorkspace(sample.path, false));
    auto* from = window.triageView()->filterPanel()->findChild<QDateTimeEdit*>(u"fromEdit"_s);
    ASSERT_NE(from, nullptr);
    // The choices (and the time span) arrive from a background query.
    for (int i = 0; i < 100 && from->minimumDate() == QDate(2000, 1, 1); ++i)
        QTest::qWait(50);
    bt::Workspace direct(sample.file());
    auto st = direct.db().prepare("SELECT MIN(timestamp) FROM events");
    ASSERT_TRUE(st.step());
    const QDate first = QDateTime::fromString(QString::fromStdString(st.text(0)), Qt::ISODate).date();
    EXPECT_EQ(from->minimumDate(), first.addDays(-1));
    // Still "any": the panel's filter has no time bound until a date is picked.
    EXPECT_TRUE(window.triageView()->filterPanel()->filter().from.empty());
    from->setDate(first.addDays(1));
    EXPECT_EQ(window.triageView()->filterPanel()->filter().from.substr(0, 10),
              first.addDays(1).toString(Qt::ISODate).toStdString());
}

TEST(TriageViewTest, ChartsExportAsPngAndSvg)
{
    SampleCopy sample;
    MainWindow window(classifier());
    window.resize(1280, 800);
    window.show();
    QSignalSpy charts(window.triageView(), &TriageView::chartsUpdated);
    ASSERT_TRUE(window.openWorkspace(sample.path, false));
    ASSERT_TRUE(charts.wait(kWaitMs));
    QTemporaryDir dir;
    const QString png = dir.filePath(u"providers.png"_s);
    const QString svg = dir.filePath(u"time.svg"_s);
    QString error;
    ASSERT_TRUE(window.triageView()->providerChart()->exportTo(png, &error)) << qPrintable(error);
    ASSERT_TRUE(window.triageView()->timeChart()->exportTo(svg, &error)) << qPrintable(error);
    QImage image(png);
    EXPECT_FALSE(image.isNull());
    EXPECT_GT(image.width(), 100);
    QFile file(svg);
    ASSERT_TRUE(file.open(QIODevice::ReadOnly));
    const QByteArray content = file.readAll();
    EXPECT_TRUE(content.contains("<svg"));
    EXPECT_TRUE(content.contains("Bounces per")) << "the chart's title is in the SVG as text";
}

TEST(TriageViewTest, GroupsViewListsProvidersAndDrillsIntoOne)
{
    SampleCopy sample;
    MainWindow window(classifier());
    GroupsView* groups = window.groupsView();
    QSignalSpy updated(groups, &GroupsView::groupsUpdated);
    ASSERT_TRUE(window.openWorkspace(sample.path, false));
    ASSERT_TRUE(updated.wait(kWaitMs));
    ASSERT_GT(groups->model()->rowCount(), 2);
    bt::Workspace direct(sample.file());
    const auto expected = bt::groupReport(direct, bt::GroupBy::Provider);
    EXPECT_EQ(groups->model()->rowCount(), static_cast<int>(expected.size()));

    const QModelIndex first = groups->table()->model()->index(0, 0);
    const QString key = first.data(GroupTableModel::KeyRole).toString();
    Q_EMIT groups->table()->activated(first);
    EXPECT_EQ(window.tabs()->currentWidget(), window.triageView());
    if (key != u"(none)"_s) {
        EXPECT_EQ(window.drillDown()->filter().providers, std::vector<std::string> {key.toStdString()});
    }
}

// The Groups view's chart shows the largest groups of the grouping chosen, named for it, and a
// bar drills into its group as the table row does.
TEST(TriageViewTest, TheGroupsChartFollowsTheGroupingAndABarDrillsIntoItsGroup)
{
    SampleCopy sample;
    MainWindow window(classifier());
    window.resize(1280, 800);
    window.show();
    GroupsView* groups = window.groupsView();
    QSignalSpy updated(groups, &GroupsView::groupsUpdated);
    ASSERT_TRUE(window.openWorkspace(sample.path, false));
    ASSERT_TRUE(updated.wait(kWaitMs));
    window.tabs()->setCurrentWidget(groups);
    updated.clear();
    groups->setGroupBy(bt::GroupBy::Domain);
    ASSERT_TRUE(updated.wait(kWaitMs));
    ProviderChart* chart = groups->chart();
    EXPECT_EQ(chart->grouping(), bt::GroupBy::Domain);
    EXPECT_TRUE(chart->chart()->title().contains(u"by recipient domain"_s)) << chart->chart()->title().toStdString();
    const QStringList shown = chart->providers();
    ASSERT_FALSE(shown.isEmpty());
    // The bars are the domains with the most bounces, as SQL ranks them.
    bt::Workspace direct(sample.file());
    auto rows = bt::groupReport(direct, bt::GroupBy::Domain);
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.bounces > b.bounces; });
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(shown.front().toStdString(), rows.front().key);

    Q_EMIT chart->barClicked(shown.front(), u"address"_s);
    EXPECT_EQ(window.tabs()->currentWidget(), window.triageView());
    EXPECT_EQ(window.drillDown()->filter().domains, std::vector<std::string> {shown.front().toStdString()});
}

TEST(MainWindowImportTest, ImportsOffTheUiThreadAndTheTableFollows)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"new.btw"_s);
    MainWindow window(classifier());
    ASSERT_TRUE(window.createWorkspace(path, false));
    ASSERT_TRUE(waitForSnapshot(window.triageView()->model()));
    EXPECT_EQ(window.triageView()->model()->totalCount(), 0);

    QSignalSpy finished(&window, &MainWindow::importFinished);
    window.importPaths({QString::fromUtf8(BT_TEST_DATA) + u"/sendgrid-bounces.csv"_s,
                        QString::fromUtf8(BT_TEST_DATA) + u"/ses-notifications.jsonl"_s});
    EXPECT_TRUE(window.isImporting());
    ASSERT_TRUE(finished.wait(kWaitMs));
    EXPECT_FALSE(window.isImporting());
    const auto args = finished.constFirst();
    EXPECT_EQ(args.at(0).toInt(), 2);
    const qint64 imported = args.at(1).toLongLong();
    EXPECT_GT(imported, 0);
    EXPECT_GT(args.at(2).toLongLong(), 0) << "the SendGrid sample has broken rows";

    // The table follows: it lists the imported bounces (the table's default), as SQL counts them.
    bt::Workspace direct(QFile::encodeName(path).toStdString());
    const qint64 listed = bt::countEvents(direct, window.triageView()->tableFilter());
    EXPECT_GT(listed, 0);
    EXPECT_LE(listed, imported);
    ASSERT_TRUE(waitForSnapshot(window.triageView()->model()));
    if (window.triageView()->model()->totalCount() != listed) {
        QSignalSpy count(window.triageView()->model(), &EventTableModel::countChanged);
        ASSERT_TRUE(count.wait(kWaitMs));
    }
    EXPECT_EQ(window.triageView()->model()->totalCount(), listed);
}

TEST(MainWindowImportTest, AnImportWaitingForAnotherSaysSoAndGoesOnWhenItEnds)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"busy.btw"_s);
    MainWindow window(classifier());
    ASSERT_TRUE(window.createWorkspace(path, false));
    // Another import (the CLI, another window) holds the workspace's import lock.
    bt::Workspace other(QFile::encodeName(path).toStdString());
    std::string holder;
    ASSERT_TRUE(other.tryLockImports("bouncetriage-cli import (a test)", holder)) << holder;

    QSignalSpy finished(&window, &MainWindow::importFinished);
    window.importPaths({QString::fromUtf8(BT_TEST_DATA) + u"/sendgrid-bounces.csv"_s});
    ASSERT_TRUE(window.isImporting());
    const QElapsedTimer started = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    while (!window.statusBar()->currentMessage().contains(u"Waiting for another import"_s)
           && started.elapsed() < kWaitMs)
        QTest::qWait(20);
    EXPECT_TRUE(window.statusBar()->currentMessage().contains(u"bouncetriage-cli import (a test)"_s))
        << window.statusBar()->currentMessage().toStdString();
    EXPECT_TRUE(window.isImporting()) << "it waits, it does not give up";

    other.unlockImports();
    ASSERT_TRUE(finished.wait(kWaitMs));
    EXPECT_GT(finished.constFirst().at(1).toLongLong(), 0) << "imported once the other import ended";
}

TEST(MainWindowImportTest, CancelStopsABigImportAndKeepsWhatWasCommitted)
{
    QTemporaryDir dir;
    const QString csv = dir.filePath(u"big.csv"_s);
    ASSERT_EQ(QProcess::execute(QString::fromUtf8(BT_SAMPLEGEN), {u"--bench-csv"_s, csv, u"--rows"_s, u"300000"_s}), 0);
    const QString path = dir.filePath(u"ws.btw"_s);
    MainWindow window(classifier());
    ASSERT_TRUE(window.createWorkspace(path, false));
    QSignalSpy finished(&window, &MainWindow::importFinished);
    window.importPaths({csv});
    ASSERT_TRUE(window.isImporting());
    // The window stays responsive while it runs: events are processed, then Cancel is clicked.
    QTest::qWait(400);
    auto* cancel = window.findChild<QPushButton*>(u"cancelImportButton"_s);
    ASSERT_NE(cancel, nullptr);
    ASSERT_TRUE(cancel->isVisible() || window.isImporting());
    QTest::mouseClick(cancel, Qt::LeftButton);
    ASSERT_TRUE(finished.wait(60000));
    const qint64 imported = finished.constFirst().at(1).toLongLong();
    EXPECT_LT(imported, 300000) << "cancel came too late to stop anything";

    // What was committed is there, counted, and the workspace is whole.
    bt::Workspace ws(QFile::encodeName(path).toStdString());
    const auto imports = ws.imports();
    ASSERT_EQ(imports.size(), 1u);
    EXPECT_EQ(imports[0].status, "cancelled");
    EXPECT_EQ(imports[0].counts.read,
              imports[0].counts.imported + imports[0].counts.rejected + imports[0].counts.duplicate);
    EXPECT_EQ(imports[0].counts.imported, imported);
    EXPECT_EQ(ws.eventCount(), imported);
    auto check = ws.db().prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.step());
    EXPECT_EQ(check.text(0), "ok");
    // A cancelled bulk import leaves every index of a fresh workspace in place.
    const auto indexes = [](bt::Workspace& w) {
        auto st = w.db().prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'");
        return st.step() ? st.int64(0) : -1;
    };
    bt::Workspace fresh(QFile::encodeName(dir.filePath(u"fresh.btw"_s)).toStdString());
    EXPECT_EQ(indexes(ws), indexes(fresh));
}

} // namespace

TEST(MainWindowImportTest, EachGroupSaysItsBasisAndSendCountsImportedInTheWindowBecomeOne)
{
    // A bounce-only SendGrid export beside a Postfix log and SES notifications.
    QTemporaryDir dir;
    const QString path = dir.filePath(u"mixed.btw"_s);
    MainWindow window(classifier());
    ASSERT_TRUE(window.createWorkspace(path, false));
    QSignalSpy finished(&window, &MainWindow::importFinished);
    const QString data = QString::fromUtf8(BT_TEST_DATA);
    window.importPaths(
        {data + u"/sendgrid-bounces.csv"_s, data + u"/postfix-mail.log"_s, data + u"/ses-notifications.jsonl"_s});
    ASSERT_TRUE(finished.wait(kWaitMs));

    GroupsView* groups = window.groupsView();
    const auto rowOf = [&](const QString& key) {
        for (int row = 0; row < groups->model()->rowCount(); ++row)
            if (groups->model()->index(row, GroupTableModel::Key).data(GroupTableModel::KeyRole).toString() == key)
                return row;
        return -1;
    };
    const auto cell = [&](const QString& key, int column, int role = Qt::DisplayRole) {
        return groups->model()->index(rowOf(key), column).data(role).toString();
    };
    QSignalSpy updated(groups, &GroupsView::groupsUpdated);
    groups->refresh();
    ASSERT_TRUE(updated.wait(kWaitMs));
    ASSERT_GE(rowOf(u"Gmail"_s), 0);
    ASSERT_GE(rowOf(u"Yahoo"_s), 0);
    // Gmail: a rate of sent over the Postfix and SES rows, the SendGrid bounces named apart.
    EXPECT_TRUE(cell(u"Gmail"_s, GroupTableModel::Rate).endsWith(u"% of 3 sent"_s))
        << qPrintable(cell(u"Gmail"_s, GroupTableModel::Rate));
    EXPECT_TRUE(cell(u"Gmail"_s, GroupTableModel::Rate, Qt::ToolTipRole).contains(u"1 bounces of 3 sent"_s))
        << qPrintable(cell(u"Gmail"_s, GroupTableModel::Rate, Qt::ToolTipRole));
    EXPECT_TRUE(cell(u"Gmail"_s, GroupTableModel::Rate, Qt::ToolTipRole).contains(u"2 more bounces"_s));
    EXPECT_FALSE(cell(u"Gmail"_s, GroupTableModel::Level).isEmpty());
    // Yahoo, only in the bounce export: a share of the bounces and no level.
    EXPECT_TRUE(cell(u"Yahoo"_s, GroupTableModel::Rate).endsWith(u" of bounces"_s));
    EXPECT_TRUE(cell(u"Yahoo"_s, GroupTableModel::Level).isEmpty());

    // Send counts from a CSV, through the window: Yahoo's rate is then of the given sends.
    const QString csv = dir.filePath(u"sends.csv"_s);
    {
        QFile f(csv);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("provider,sent\nYahoo,200\n<b>Gmail</b>,x\n");
    }
    QSignalSpy imported(&window, &MainWindow::sendCountsImported);
    updated.clear();
    window.importSendCounts(csv);
    ASSERT_TRUE(imported.wait(kWaitMs));
    EXPECT_EQ(imported.constFirst().at(0).toInt(), 1);
    const QStringList errors = imported.constFirst().at(1).toStringList();
    ASSERT_EQ(errors.size(), 1);
    EXPECT_TRUE(errors.front().startsWith(u"line 3: "_s)) << qPrintable(errors.front());
    auto* box = window.findChild<QMessageBox*>(u"sendCountsErrors"_s);
    ASSERT_NE(box, nullptr);
    EXPECT_EQ(box->textFormat(), Qt::PlainText);
    EXPECT_TRUE(box->detailedText().contains(u"line 3"_s));
    box->close();
    if (updated.isEmpty()) {
        ASSERT_TRUE(updated.wait(kWaitMs));
    }
    EXPECT_TRUE(cell(u"Yahoo"_s, GroupTableModel::Rate).endsWith(u"% of 200 given"_s))
        << qPrintable(cell(u"Yahoo"_s, GroupTableModel::Rate));
    EXPECT_EQ(cell(u"Yahoo"_s, GroupTableModel::Level), btui::levelText("low"));
    EXPECT_TRUE(cell(u"Yahoo"_s, GroupTableModel::Rate, Qt::ToolTipRole).contains(u"of 200 sent"_s));
}

TEST(TriageViewTest, ABrandIsShownBesideItsDomainWhileItsEventsCountUnderTheOperator)
{
    // AOL's mail is taken by Yahoo's servers: the events count under Yahoo, and the domain
    // column keeps the brand people know.
    QTemporaryDir dir;
    const QString path = dir.filePath(u"aol.btw"_s);
    const auto kb = bt::KnowledgeBase::loadDefault();
    {
        bt::Workspace ws(QFile::encodeName(path).toStdString());
        const auto import = ws.beginImport("fixture", 0, "", "test");
        int n = 0;
        for (const char* domain : {"aol.com", "aol.com", "yahoo.com"}) {
            bt::Event e;
            e.recipientDomain = domain;
            e.recipient = std::to_string(n) + "@" + domain;
            e.provider = bt::providerFor(*kb, domain, {});
            e.timestamp = "2026-03-01T10:00:00Z";
            e.replyText = "554 5.7.9 Message not accepted for policy reasons";
            e.dedupKey = std::to_string(n++);
            ASSERT_EQ(ws.addEvent(import, e), bt::Workspace::Added::Imported);
        }
    }
    MainWindow window(classifier());
    ASSERT_TRUE(window.openWorkspace(path, false));
    EventTableModel* model = window.triageView()->model();
    ASSERT_TRUE(waitForSnapshot(model));
    ASSERT_EQ(model->rowCount(), 3);
    QStringList domains;
    for (int row = 0; row < model->rowCount(); ++row) {
        EXPECT_EQ(model->index(row, int(bt::EventColumn::Provider)).data().toString(), u"Yahoo"_s);
        domains << model->index(row, int(bt::EventColumn::Domain)).data().toString();
    }
    domains.sort();
    EXPECT_EQ(domains, (QStringList {u"aol.com (AOL)"_s, u"aol.com (AOL)"_s, u"yahoo.com"_s}));

    GroupsView* groups = window.groupsView();
    QSignalSpy updated(groups, &GroupsView::groupsUpdated);
    groups->setGroupBy(bt::GroupBy::Domain);
    ASSERT_TRUE(updated.wait(kWaitMs));
    ASSERT_EQ(groups->model()->rowCount(), 2);
    EXPECT_EQ(groups->model()->index(0, GroupTableModel::Key).data().toString(), u"aol.com (AOL)"_s);
    EXPECT_EQ(groups->model()->index(0, GroupTableModel::Key).data(GroupTableModel::KeyRole).toString(), u"aol.com"_s)
        << "the drill-down filters on the domain itself";
}

// An auth bounce beside the receivers' DMARC aggregate reports (tests/data/dmarc-planted): the
// details pane's DMARC tab names the report row of its IP that day, as plain sentences; a
// delivery has no such tab to offer.
TEST(TriageViewTest, TheDetailsOfAnAuthBounceShowTheDmarcReportRowsOfItsDay)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(u"planted.btw"_s);
    const std::string planted = std::string(BT_TEST_DATA) + "/dmarc-planted/";
    {
        bt::Workspace ws(path.toStdString());
        const bt::Classifier c(bt::KnowledgeBase::loadDefault());
        ASSERT_EQ(bt::importPath(ws, planted + "outlook-20250311.xml", c).counts.imported, 2);
        const auto profile = bt::CsvProfile::load(planted + "profile.json");
        ASSERT_EQ(bt::importPath(ws, planted + "bounces.csv", c, nullptr, &profile).counts.imported, 4);
    }
    MainWindow window(classifier());
    window.resize(1280, 800);
    window.show();
    ASSERT_TRUE(window.openWorkspace(path, false));
    EventTableModel* model = window.triageView()->model();
    ASSERT_TRUE(waitForSnapshot(model));
    DetailsPane* details = window.triageView()->details();
    QTabWidget* tabs = details->tabs();
    auto* dmarc = details->findChild<QPlainTextEdit*>(u"detailsDmarc"_s);
    ASSERT_NE(dmarc, nullptr);
    const int dmarcTab = tabs->indexOf(dmarc);
    ASSERT_GE(dmarcTab, 0);

    bt::Workspace direct(path.toStdString(), bt::Workspace::Mode::View);
    auto idOf = [&](const char* recipient) {
        for (const auto& r : bt::eventPage(direct, {}, bt::EventColumn::Time, true, 0, 10))
            if (r.recipient == recipient)
                return r.id;
        return std::int64_t {0};
    };
    QSignalSpy shown(details, &DetailsPane::eventShown);
    details->loadEvent(idOf("bob@outlook.com"));
    while (details->eventId() != idOf("bob@outlook.com") && shown.wait(kWaitMs)) { }
    ASSERT_EQ(details->eventId(), idOf("bob@outlook.com"));
    EXPECT_TRUE(tabs->isTabEnabled(dmarcTab));
    EXPECT_EQ(tabs->tabText(dmarcTab), u"DMARC (1)"_s);
    EXPECT_TRUE(dmarc->toPlainText().startsWith(
        u"On 2025-03-11, Outlook.com's report shows 212 messages from 203.0.113.5 (From example.com): DKIM fail"_s))
        << dmarc->toPlainText().toStdString();
    EXPECT_TRUE(details->showTab(u"dmarc"_s));
    EXPECT_EQ(tabs->currentIndex(), dmarcTab);
    EXPECT_FALSE(details->showTab(u"nonsense"_s));

    // An address bounce from the other IP: nothing asked, the tab is off.
    details->loadEvent(idOf("dave@outlook.com"));
    while (details->eventId() != idOf("dave@outlook.com") && shown.wait(kWaitMs)) { }
    EXPECT_FALSE(tabs->isTabEnabled(dmarcTab));
    EXPECT_EQ(tabs->tabText(dmarcTab), u"DMARC"_s);
}

TEST(TriageViewTest, TheDetailsOfABounceEmailsEventShowTheVerdictTheImportGave)
{
    // Yahoo's "554 INVALID IP FOR SENDING MAIL OF DOMAIN" in a bounce email: read as blocked, by
    // the conventions bounce emails are labelled by (yahoo.invalidipfordomain's
    // bounce_email_reason); pasted alone, the reply reads as an authentication failure. The
    // details' fresh diagnosis must read it as the import did, evidence included.
    const auto eml
        = std::filesystem::path(BT_SHARED_DIR) / "corpus" / "sisimai" / "maildir" / "bsd" / "lhost-yahoo-14.eml";
    if (!std::filesystem::exists(eml))
        GTEST_SKIP() << "no corpus at " << eml;
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(u"exim37.btw"_s);
    const auto row = importOnlyEvent(eml, path);
    ASSERT_TRUE(row);
    const std::string stored = row->reason;
    ASSERT_EQ(stored, "blocked");
    ASSERT_EQ(classifier()->diagnoseText(row->reply).reason, "authfailure") << "pasted alone";
    MainWindow window(classifier());
    DetailsPane* details = showOnlyEvent(window, path);
    ASSERT_NE(details, nullptr);
    const auto& d = details->card()->diagnosis();
    EXPECT_EQ(d.reason, stored);
    EXPECT_EQ(d.confidence, "rule");
    EXPECT_TRUE(d.overruled.empty());
    for (const auto& e : d.evidence)
        EXPECT_NE(e.rule.rfind("model:", 0), 0u) << e.rule;
    // The Fields tab gives the stored evidence as words and rules, not as the JSON it is kept in.
    QString evidence;
    for (int i = 0; i < details->fieldsTree()->topLevelItemCount(); ++i)
        if (details->fieldsTree()->topLevelItem(i)->text(0) == u"Evidence"_s)
            evidence = details->fieldsTree()->topLevelItem(i)->text(1);
    ASSERT_FALSE(d.evidence.empty());
    const auto& first = d.evidence.front();
    EXPECT_TRUE(evidence.contains(QString::fromStdString(d.replyText.substr(first.start, first.end - first.start))))
        << evidence.toStdString();
    EXPECT_TRUE(evidence.contains(QString::fromStdString(first.rule))) << evidence.toStdString();
    EXPECT_FALSE(evidence.startsWith(u'[')) << evidence.toStdString();
}

// A bounce that gave no SMTP reply (Exchange 2003's notice, read as filtered by its status): the
// details pane says so where the reply would be, and the card still explains the stored verdict
// and what to do, with no evidence to point at.
TEST(TriageViewTest, TheDetailsOfABounceWithoutAReplyExplainItsVerdict)
{
    const auto eml
        = std::filesystem::path(BT_SHARED_DIR) / "corpus" / "sisimai" / "maildir" / "bsd" / "lhost-exchange2003-04.eml";
    if (!std::filesystem::exists(eml))
        GTEST_SKIP() << "no corpus at " << eml;
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(u"noreply.btw"_s);
    const auto row = importOnlyEvent(eml, path);
    ASSERT_TRUE(row);
    ASSERT_TRUE(row->reply.empty());
    const std::string stored = row->reason;
    ASSERT_FALSE(stored.empty());
    ASSERT_NE(stored, "undefined");
    MainWindow window(classifier());
    DetailsPane* details = showOnlyEvent(window, path);
    ASSERT_NE(details, nullptr);
    EXPECT_TRUE(details->replyEdit()->toPlainText().isEmpty());
    EXPECT_TRUE(details->replyEdit()->placeholderText().contains(QString::fromStdString(stored)))
        << details->replyEdit()->placeholderText().toStdString();
    EXPECT_FALSE(details->card()->isHidden());
    const auto& d = details->card()->diagnosis();
    EXPECT_EQ(d.reason, stored);
    EXPECT_TRUE(d.evidence.empty());
    EXPECT_FALSE(d.steps.empty());
    // Decided by the bounce's status, not by words of a reply it does not have.
    EXPECT_EQ(d.confidence, "code");
    EXPECT_FALSE(d.enhancedCode.empty());
}

// A reply two readings nearly tie on ("Too many recipients" is a rate limit, "Too many messages
// sent" a sending quota): the details pane shows the rival on its card and marks the rival's
// words in the reply with dots, as the Diagnose view does, apart from the verdict's tinted words.
TEST(TriageViewTest, TheDetailsMarkARivalReadingsWordsApart)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(u"rival.btw"_s);
    const QString csv = dir.filePath(u"bounces.csv"_s);
    {
        QFile f(csv);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("ID,Type,TypeCode,Name,Tag,MessageID,Description,Details,Email,From,BouncedAt,MessageStream\n"
                "1,HardBounce,1,Hard bounce,,m-1,\"Bounced\",\"smtp;452 4.5.3 Too many recipients: Too many messages "
                "sent\",ann@example.org,news@shop.example.com,2024-05-02T08:00:00Z,outbound\n");
    }
    std::int64_t id = 0;
    {
        bt::Workspace ws(path.toStdString());
        ASSERT_EQ(bt::importPath(ws, csv.toStdString(), *classifier()).counts.imported, 1);
        id = bt::eventPage(ws, {}, bt::EventColumn::Time, true, 0, 1).at(0).id;
    }
    MainWindow window(classifier());
    window.resize(1280, 800);
    window.show();
    ASSERT_TRUE(window.openWorkspace(path, false));
    ASSERT_TRUE(waitForSnapshot(window.triageView()->model()));
    // One bounce, in the singular.
    EXPECT_EQ(window.triageView()->findChild<QLabel*>(u"countLabel"_s)->text(), u"1 bounce"_s);
    DetailsPane* details = window.triageView()->details();
    QSignalSpy shown(details, &DetailsPane::eventShown);
    details->loadEvent(id);
    while (details->eventId() != id && shown.wait(kWaitMs)) { }
    ASSERT_EQ(details->eventId(), id);
    ASSERT_FALSE(bt::alternativeReading(details->card()->diagnosis()).empty());
    EXPECT_TRUE(details->card()->plainText().contains(u"Also possible"_s));
    QStringList tinted, dotted;
    for (const QTextEdit::ExtraSelection& s : details->replyEdit()->extraSelections()) {
        if (s.format.underlineStyle() == QTextCharFormat::DotLine) {
            dotted.append(s.cursor.selectedText());
            EXPECT_FALSE(s.format.hasProperty(QTextFormat::BackgroundBrush));
        } else if (s.format.hasProperty(QTextFormat::BackgroundBrush)) {
            tinted.append(s.cursor.selectedText());
        }
    }
    EXPECT_EQ(dotted.join(u'|'), u"Too many messages"_s);
    EXPECT_TRUE(tinted.contains(u"Too many recipients"_s)) << tinted.join(u'|').toStdString();
}

// The drill-down trail names the user's filters, which can be longer than the room beside the
// buttons: it is shortened with "…" (not cut mid-word with no sign), the whole of it in the
// tooltip, as plain text; with room again it is whole.
TEST(TriageViewTest, ALongTrailIsShortenedWithAnEllipsisAndWholeInItsTooltip)
{
    ElidedLabel label;
    const QString full = u"Showing: code 452 \u00B7 text \u201C<b>Too many messages</b>\u201D \u00B7 provider Libero"_s;
    label.setFullText(full);
    label.resize(160, label.sizeHint().height());
    label.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&label));
    EXPECT_TRUE(label.text().endsWith(u'\u2026')) << label.text().toStdString();
    EXPECT_LT(label.text().size(), full.size());
    EXPECT_TRUE(full.startsWith(label.text().chopped(1)));
    EXPECT_LE(label.fontMetrics().horizontalAdvance(label.text()), label.contentsRect().width());
    EXPECT_TRUE(label.toolTip().contains(u"Too many messages"_s));
    EXPECT_EQ(label.textFormat(), Qt::PlainText);
    EXPECT_EQ(label.fullText(), full);
    label.resize(label.fontMetrics().horizontalAdvance(full) + 40, label.height());
    EXPECT_EQ(label.text(), full);
}
