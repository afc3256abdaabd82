// SPDX-License-Identifier: MIT
// The Watch tab and what watching adds to the other views, offscreen: blocklist listings drawn as
// bands on the time chart where they overlap the events, the Watch view filled from a
// workspace's sources, and a change made by another connection (another process's `watch`)
// refreshing the open window by itself.
#include "charts/timechart.h"
#include "importer.h"
#include "mainwindow.h"
#include "models/watchservice.h"
#include "uitestsupport.h"
#include "views/watchview.h"
#include "watch.h"
#include "workspace.h"

#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <gtest/gtest.h>

using namespace Qt::StringLiterals;

namespace
{

std::vector<bt::TimeBucket> hours(int first, int count)
{
    std::vector<bt::TimeBucket> out;
    for (int h = first; h < first + count; ++h) {
        char b[32];
        std::snprintf(b, sizeof b, "2026-03-03T%02d", h);
        bt::TimeBucket t;
        t.bucket = b;
        t.bounces = 3;
        t.families["reputation"] = 3;
        out.push_back(t);
    }
    return out;
}

bt::Listing listing(const std::string& listed, const std::string& delisted)
{
    bt::Listing l;
    l.name = "192.0.2.10";
    l.zone = "zen.spamhaus.org";
    l.listed = listed;
    l.delisted = delisted;
    return l;
}

} // namespace

TEST(TimeChartListings, ListedPeriodsAreBandsOverTheirHours)
{
    TimeChart chart;
    chart.resize(900, 400);
    // Hours 06 … 11; listed 07:30–09:10, one still listed from 10:05, one long before the events.
    chart.setSeries(hours(6, 6), {}, true,
                    {listing("2026-03-03T07:30:00Z", "2026-03-03T09:10:00Z"), listing("2026-03-03T10:05:00Z", ""),
                     listing("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")});
    const auto bands = chart.listingBands();
    ASSERT_EQ(bands.size(), 2);
    EXPECT_EQ(bands[0], qMakePair(1, 3)) << "07 to 09";
    EXPECT_EQ(bands[1], qMakePair(4, 5)) << "from 10 to the end of the chart while listed";
    chart.setSeries(hours(6, 6), {}, true, {});
    EXPECT_TRUE(chart.listingBands().isEmpty());
}

TEST(WatchViewTest, ShowsTheSourcesOfTheWorkspaceAndSeesChangesFromOutside)
{
    uitest::SampleCopy sample;
    QTemporaryDir dir;
    const QString log = dir.filePath(u"mail.log"_s);
    ASSERT_TRUE(QFile::copy(QString::fromUtf8(BT_TEST_DATA) + u"/postfix-mail.log"_s, log));
    {
        bt::Workspace ws(sample.file());
        bt::addSource(ws, "log:" + QFile::encodeName(log).toStdString());
    }
    MainWindow window(uitest::classifier());
    window.resize(1280, 800);
    window.show();
    // Watching in this window off: the source is only shown, and read by "another process".
    ASSERT_TRUE(window.openWorkspace(sample.path, false));
    window.watchService()->setEnabled(false);
    QSignalSpy looked(window.watchService(), &WatchService::looked);
    window.watchService()->reload();
    ASSERT_TRUE(looked.wait(uitest::kWaitMs));
    QTableWidget* sources = window.watchView()->sourcesTable();
    ASSERT_EQ(sources->rowCount(), 1);
    EXPECT_TRUE(sources->item(0, 0)->text().startsWith(u"log:"_s));
    EXPECT_EQ(sources->item(0, 1)->text(), u"not read yet"_s);

    // Another connection reads the log into the workspace, as `bouncetriage-cli watch` would.
    QSignalSpy outside(&window, &MainWindow::workspaceChangedOutside);
    QTest::qWait(2500); // the window has taken note of the version it shows
    {
        bt::Workspace ws(sample.file());
        const auto source = bt::findSource(ws, "1");
        ASSERT_TRUE(source.has_value());
        const auto r = bt::readSource(ws, *uitest::classifier(), *source);
        ASSERT_TRUE(r.error.empty()) << r.error;
        EXPECT_GT(r.counts.imported, 0);
    }
    ASSERT_TRUE(outside.wait(uitest::kWaitMs)) << "the open window notices the change by itself";
    looked.clear();
    ASSERT_TRUE(looked.wait(uitest::kWaitMs));
    EXPECT_EQ(sources->item(0, 1)->text(), u"OK"_s);
    EXPECT_NE(sources->item(0, 5)->text(), u"0"_s);
}
