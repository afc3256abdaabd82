// SPDX-License-Identifier: MIT
// The window's models on a copy of the bundled sample workspace, under QAbstractItemModelTester:
// the lazy event table, the group table with rates and levels, and the drill-down history.
#include "../uitestsupport.h"
#include "analysis.h"
#include "models/drilldown.h"
#include "models/eventtablemodel.h"
#include "models/grouptablemodel.h"
#include "models/workspacesession.h"
#include "query.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>

#include <gtest/gtest.h>

using namespace Qt::StringLiterals;
using uitest::classifier;
using uitest::kWaitMs;
using uitest::SampleCopy;
using uitest::waitForSnapshot;

TEST(EventTableModelTest, PassesTheModelTesterAndPagesThroughTheFilter)
{
    SampleCopy sample;
    WorkspaceSession session(sample.path);
    EventTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setSession(&session);
    ASSERT_TRUE(waitForSnapshot(&model));

    bt::Workspace direct(sample.file());
    EXPECT_EQ(model.totalCount(), bt::countEvents(direct, {}));
    EXPECT_GT(model.totalCount(), 1000);

    bt::EventFilter gmail;
    gmail.providers = {"Gmail"};
    model.setFilter(gmail);
    ASSERT_TRUE(waitForSnapshot(&model));
    const auto expected = bt::countEvents(direct, gmail);
    EXPECT_EQ(model.totalCount(), expected);
    ASSERT_GT(expected, EventTableModel::kPageSize * 2);

    // The last row lies on a page not fetched yet: asking for it fetches it in the background.
    const int last = model.rowCount() - 1;
    const QModelIndex lastIndex = model.index(last, static_cast<int>(bt::EventColumn::Provider));
    if (!model.eventId(last)) {
        QSignalSpy pages(&model, &EventTableModel::pageLoaded);
        (void)model.data(lastIndex);
        ASSERT_TRUE(pages.wait(kWaitMs));
    }
    EXPECT_EQ(model.data(lastIndex).toString(), u"Gmail"_s);
    EXPECT_NE(model.eventId(last), 0);

    // Sorting by time ascending puts the earliest event first, as SQL says.
    model.sort(static_cast<int>(bt::EventColumn::Time), Qt::AscendingOrder);
    ASSERT_TRUE(waitForSnapshot(&model));
    const auto first = bt::eventPage(direct, gmail, bt::EventColumn::Time, false, 0, 1);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(model.data(model.index(0, 0), EventTableModel::EventIdRole).toLongLong(), first[0].id);
}

// Under a full-text search the table holds the ordered ids of the matches and reads pages by id:
// the rows, their order and the count are those of SQL's own paging, down to the last page.
TEST(EventTableModelTest, AFullTextSearchPagesThroughItsMatchesInOrder)
{
    SampleCopy sample;
    WorkspaceSession session(sample.path);
    EventTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setSession(&session);
    ASSERT_TRUE(waitForSnapshot(&model));

    bt::Workspace direct(sample.file());
    bt::EventFilter search;
    search.text = "250 2.0.0"; // the deliveries: thousands of matches, many pages
    model.setFilter(search);
    ASSERT_TRUE(waitForSnapshot(&model));
    const auto expected = bt::countEvents(direct, search);
    ASSERT_GT(expected, EventTableModel::kPageSize * 2) << "the sample should need several pages";
    EXPECT_EQ(model.totalCount(), expected);

    model.sort(static_cast<int>(bt::EventColumn::Recipient), Qt::DescendingOrder);
    ASSERT_TRUE(waitForSnapshot(&model));
    // First row, and a row of the last page, as SQL pages them.
    const auto top = bt::eventPage(direct, search, bt::EventColumn::Recipient, true, 0, 1);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(model.data(model.index(0, 0), EventTableModel::EventIdRole).toLongLong(), top[0].id);
    const int last = model.rowCount() - 1;
    if (!model.eventId(last)) {
        QSignalSpy pages(&model, &EventTableModel::pageLoaded);
        (void)model.data(model.index(last, 0));
        ASSERT_TRUE(pages.wait(kWaitMs));
    }
    const auto bottom = bt::eventPage(direct, search, bt::EventColumn::Recipient, true, last, 1);
    ASSERT_EQ(bottom.size(), 1u);
    EXPECT_EQ(model.eventId(last), bottom[0].id);
    EXPECT_EQ(model.data(model.index(last, static_cast<int>(bt::EventColumn::Recipient))).toString(),
              QString::fromStdString(bottom[0].recipient));

    // Clearing the search goes back to counting and paging by OFFSET.
    model.setFilter({});
    ASSERT_TRUE(waitForSnapshot(&model));
    EXPECT_EQ(model.totalCount(), bt::countEvents(direct, {}));
}

TEST(GroupTableModelTest, PassesTheModelTesterWithRatesAndLevels)
{
    SampleCopy sample;
    bt::Workspace ws(sample.file());
    GroupTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    auto rows = bt::groupReport(ws, bt::GroupBy::Provider);
    ASSERT_FALSE(rows.empty());
    const auto top = rows.front();
    model.setRows(bt::GroupBy::Provider, std::move(rows), {QString::fromStdString(top.key)});
    EXPECT_EQ(model.index(0, GroupTableModel::Key).data().toString(), QString::fromStdString(top.key));
    EXPECT_EQ(model.index(0, GroupTableModel::Bounces).data(GroupTableModel::SortRole).toLongLong(), top.bounces);
    EXPECT_DOUBLE_EQ(model.index(0, GroupTableModel::Rate).data(GroupTableModel::SortRole).toDouble(), top.rate);
    EXPECT_TRUE(model.index(0, GroupTableModel::Level).data().toString().startsWith(QString::fromStdString(top.level)));
    EXPECT_EQ(model.index(0, GroupTableModel::Incidents).data().toString(), u"yes"_s);

    // The sample's SES events carry no sending IP: that group is shown as what it is, its key
    // (for the drill-down) stays "(none)".
    model.setRows(bt::GroupBy::Ip, bt::groupReport(ws, bt::GroupBy::Ip));
    ASSERT_GT(model.rowCount(), 0);
    EXPECT_EQ(model.index(0, GroupTableModel::Key).data(GroupTableModel::KeyRole).toString(), u"(none)"_s);
    EXPECT_EQ(model.index(0, GroupTableModel::Key).data().toString(), u"(sending IP unknown)"_s);
}

TEST(DrillDownTest, PushBackResetAndWords)
{
    DrillDown drill;
    QSignalSpy changed(&drill, &DrillDown::filterChanged);
    EXPECT_FALSE(drill.canGoBack());
    drill.narrow([](bt::EventFilter& f) { f.providers = {"Gmail"}; });
    drill.narrow([](bt::EventFilter& f) { f.families = {"auth"}; });
    drill.push(drill.filter()); // the same filter again: no new level
    EXPECT_EQ(changed.count(), 2);
    EXPECT_EQ(drill.depth(), 2);
    EXPECT_EQ(btui::describeFilter(drill.filter()), u"provider Gmail \u00b7 family auth"_s);
    drill.back();
    EXPECT_TRUE(drill.filter().families.empty());
    EXPECT_EQ(drill.filter().providers.size(), 1u);
    drill.reset();
    EXPECT_TRUE(drill.filter().empty());
    EXPECT_FALSE(drill.canGoBack());
    EXPECT_EQ(btui::describeFilter(drill.filter()), u"all events"_s);
}

/// The centre of a bar of the provider chart, in viewport coordinates.
