// SPDX-License-Identifier: MIT
// Offscreen tests of the Sources view: filled in the background from a workspace of real DMARC
// aggregate reports (tests/data/dmarc) and from the bundled sample, its model under
// QAbstractItemModelTester, sorting, the selected source's chart, and the empty state.
#include "charts/passratechart.h"
#include "importer.h"
#include "mainwindow.h"
#include "models/sourcetablemodel.h"
#include "uitestsupport.h"
#include "views/groupsview.h"
#include "views/sourcesview.h"
#include "workspace.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QChart>
#include <QFile>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <gtest/gtest.h>

#include <map>

using namespace Qt::StringLiterals;

namespace
{

using uitest::classifier;
using uitest::kWaitMs;
using uitest::SampleCopy;

/// A new workspace in `dir` holding `files` of tests/data, imported by the core.
QString workspaceOf(const QTemporaryDir& dir, const QStringList& files)
{
    const QString path = dir.filePath(u"sources.btw"_s);
    bt::Workspace ws(QFile::encodeName(path).toStdString());
    for (const QString& f : files) {
        const auto r = bt::importPath(ws, std::string(BT_TEST_DATA) + "/" + f.toStdString(), *classifier());
        EXPECT_TRUE(r.error.empty()) << r.error;
    }
    return path;
}

/// Opens `path` in `window` and waits for the Sources view's rows.
bool openAndWait(MainWindow& window, const QString& path)
{
    window.resize(1280, 800);
    window.show();
    QSignalSpy updated(window.sourcesView(), &SourcesView::sourcesUpdated);
    return window.openWorkspace(path, false) && updated.wait(kWaitMs);
}

/// The IPs of the table from top to bottom, as sorted.
QStringList ipsShown(QTableView* table)
{
    QStringList ips;
    for (int r = 0; r < table->model()->rowCount(); ++r)
        ips.append(table->model()->index(r, SourceTableModel::Ip).data().toString());
    return ips;
}

} // namespace

TEST(SourcesViewTest, FillsFromRealReportsHighlightsUnverifiedSourcesAndSorts)
{
    QTemporaryDir dir;
    const QString path = workspaceOf(dir,
                                     {u"dmarc/google.xml"_s, u"dmarc/outlook.xml"_s, u"dmarc/yahoo.xml"_s,
                                      u"dmarc/mailru.xml"_s, u"dmarc/outlook-hotmail.xml"_s});
    MainWindow window(classifier());
    SourcesView* view = window.sourcesView();
    QAbstractItemModelTester tester(view->model(), QAbstractItemModelTester::FailureReportingMode::Fatal);
    ASSERT_TRUE(openAndWait(window, path));
    EXPECT_FALSE(view->showsEmptyState());
    ASSERT_EQ(view->model()->rowCount(), 3);

    QTableView* table = view->table();
    // Most messages first by default.
    EXPECT_EQ(ipsShown(table).front(), u"1.2.3.4"_s);
    const QModelIndex good = table->model()->index(0, SourceTableModel::DmarcPass);
    EXPECT_EQ(good.data().toString(), u"100 %"_s);
    EXPECT_FALSE(good.data(Qt::BackgroundRole).isValid()) << "a verified source is not highlighted";
    EXPECT_EQ(table->model()->index(0, SourceTableModel::FromDomains).data().toString(),
              u"foo-bar.io, random.net, random.org"_s);
    EXPECT_EQ(table->model()->index(0, SourceTableModel::FirstSeen).data().toString(), u"2024-03-04"_s);
    EXPECT_TRUE(table->model()
                    ->index(0, SourceTableModel::Ip)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(u"From domains: foo-bar.io, random.net, random.org"_s));

    // By IP, as text: 1.2.3.4, 100.…, 118.…
    table->sortByColumn(SourceTableModel::Ip, Qt::AscendingOrder);
    EXPECT_EQ(ipsShown(table), (QStringList {u"1.2.3.4"_s, u"100.24.188.149"_s, u"118.41.204.2"_s}));
    table->sortByColumn(SourceTableModel::Ip, Qt::DescendingOrder);
    EXPECT_EQ(ipsShown(table).front(), u"118.41.204.2"_s);
    // By DMARC pass rate, lowest first: the two unverified sources come before the good one,
    // each highlighted and flagged.
    table->sortByColumn(SourceTableModel::DmarcPass, Qt::AscendingOrder);
    EXPECT_EQ(ipsShown(table).back(), u"1.2.3.4"_s);
    for (int r = 0; r < 2; ++r) {
        EXPECT_TRUE(table->model()->index(r, 0).data(SourceTableModel::UnverifiedRole).toBool());
        EXPECT_TRUE(table->model()->index(r, 0).data(Qt::BackgroundRole).isValid());
        EXPECT_EQ(table->model()->index(r, SourceTableModel::Flags).data().toString(), u"unverified"_s);
        EXPECT_EQ(table->model()->index(r, SourceTableModel::DmarcPass).data().toString(), u"0.0 %"_s);
    }
    // By flags, heaviest first.
    table->sortByColumn(SourceTableModel::Flags, Qt::DescendingOrder);
    EXPECT_NE(ipsShown(table).front(), u"1.2.3.4"_s);

    // The chart shows all sources' days, then the selected source's; laid out once its tab shows.
    window.tabs()->setCurrentWidget(view);
    QApplication::processEvents();
    PassRateChart* chart = view->chart();
    EXPECT_TRUE(chart->chart()->title().contains(u"all sources"_s));
    EXPECT_FALSE(chart->axisLabels().isEmpty());
    EXPECT_EQ(chart->axisLabels().front(), u"03-04"_s) << "days of one year: month and day";
    table->sortByColumn(SourceTableModel::Messages, Qt::DescendingOrder);
    table->selectRow(0);
    EXPECT_TRUE(chart->chart()->title().contains(u"1.2.3.4"_s));
    EXPECT_TRUE(chart->chart()->title().contains(u"no bounce names this IP"_s)) << "reports alone, no events";
    EXPECT_EQ(chart->axisLabels(), (QStringList {u"03-04"_s, u"03-05"_s, u"03-06"_s})) << "its three days";
    table->clearSelection();
    EXPECT_TRUE(chart->chart()->title().contains(u"all sources"_s));
}

TEST(SourcesViewTest, SaysWhatToImportWhenTheWorkspaceHoldsNoReports)
{
    QTemporaryDir dir;
    const QString path = workspaceOf(dir, {u"sendgrid-bounces.csv"_s});
    MainWindow window(classifier());
    ASSERT_TRUE(openAndWait(window, path));
    SourcesView* view = window.sourcesView();
    EXPECT_TRUE(view->showsEmptyState());
    EXPECT_EQ(view->model()->rowCount(), 0);
    EXPECT_TRUE(view->emptyText().contains(u"DMARC aggregate reports"_s));
    EXPECT_TRUE(view->emptyText().contains(u"rua"_s));

    // Importing reports through the window fills it.
    QSignalSpy updated(view, &SourcesView::sourcesUpdated);
    window.importPaths({QString::fromUtf8(BT_TEST_DATA) + u"/dmarc/mailru.xml"_s});
    ASSERT_TRUE(updated.wait(kWaitMs));
    EXPECT_FALSE(view->showsEmptyState());
    EXPECT_EQ(view->model()->rowCount(), 1);
}

TEST(SourcesViewTest, MarkupInAReportIsShownAsWritten)
{
    // A source IP is a stranger's text: the chart title and the tooltip must not render it.
    SourceTableModel model;
    bt::SourceSummary s;
    s.ip = "<b>bold</b>";
    s.messages = 2;
    s.unverified = true;
    model.setSources({s});
    const QString tip = model.index(0, 0).data(Qt::ToolTipRole).toString();
    EXPECT_FALSE(tip.contains(u"<b>"_s)) << tip.toStdString();
    EXPECT_TRUE(tip.contains(u"&lt;b&gt;"_s)) << tip.toStdString();
    PassRateChart chart;
    bt::DmarcDay d;
    d.day = "2026-03-01";
    d.messages = 2;
    chart.setDays({d}, u"<b>bold</b>"_s);
    EXPECT_EQ(chart.chart()->title(), u"&lt;b&gt;bold&lt;/b&gt;"_s);
}

TEST(SampleSourcesTest, TheSampleWorkspaceShowsItsGeneratedReports)
{
    SampleCopy sample;
    MainWindow window(classifier());
    ASSERT_TRUE(openAndWait(window, sample.path));
    SourcesView* view = window.sourcesView();
    EXPECT_FALSE(view->showsEmptyState());
    ASSERT_EQ(view->model()->rowCount(), 4);
    std::map<std::string, const bt::SourceSummary*> by;
    for (const auto& s : view->model()->sources())
        by[s.ip] = &s;
    ASSERT_TRUE(by.count("198.51.100.7") && by.count("192.0.2.25") && by.count("203.0.113.45")
                && by.count("209.85.220.41"));
    EXPECT_EQ(view->model()->sources().front().ip, "198.51.100.7") << "SES sends most";
    EXPECT_FALSE(by["198.51.100.7"]->unverified);
    EXPECT_EQ(by["198.51.100.7"]->spfAligned, 0) << "SES's MAIL FROM is amazonses.com";
    EXPECT_TRUE(by["203.0.113.45"]->unverified);
    ASSERT_FALSE(by["192.0.2.25"]->drops.empty());
    EXPECT_EQ(by["192.0.2.25"]->drops.front().day, "2026-03-10");
    EXPECT_FALSE(by["209.85.220.41"]->unverified) << "DKIM survives forwarding";
    for (int r = 0; r < view->model()->rowCount(); ++r) {
        if (view->model()->index(r, 0).data(SourceTableModel::IpRole).toString() == u"192.0.2.25"_s) {
            EXPECT_EQ(view->model()->index(r, SourceTableModel::Flags).data().toString(),
                      u"pass rate drop 2026-03-10 (3 days)"_s)
                << "SPF broken from 10 to 12 March";
        }
    }

    // The SES address's DKIM failures are the messages Google refused with 5.7.26: each day's
    // failing count equals that day's auth bounces.
    bt::Workspace direct(sample.file());
    const auto report = bt::sourceReport(direct);
    std::int64_t authBounces = 0;
    for (const auto& d : report.days)
        authBounces += d.authBounces;
    EXPECT_GT(authBounces, 0);
    EXPECT_EQ(by["198.51.100.7"]->failBoth, authBounces);
    EXPECT_EQ(report.days.size(), 14u);
}

TEST(MainWindowSourcesTest, CtrlFourShowsTheSourcesTab)
{
    SampleCopy sample;
    MainWindow window(classifier());
    ASSERT_TRUE(openAndWait(window, sample.path));
    QTest::keyClick(&window, Qt::Key_4, Qt::ControlModifier);
    EXPECT_EQ(window.tabs()->currentWidget(), static_cast<QWidget*>(window.sourcesView()));
    QTest::keyClick(&window, Qt::Key_3, Qt::ControlModifier);
    EXPECT_EQ(window.tabs()->currentWidget(), static_cast<QWidget*>(window.groupsView()));
}
