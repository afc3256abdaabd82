// SPDX-License-Identifier: MIT
// The Test Message tab, offscreen: a pasted message tested off the UI thread gives the core's
// checklist row for row, markup in a header stays text, a paste that is no message says why, and
// the JSON copied is what `test-message --json` prints.
#include "mainwindow.h"
#include "tester.h"
#include "uitestsupport.h"
#include "views/testerview.h"

#include <QApplication>
#include <QClipboard>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace Qt::StringLiterals;

namespace
{

// A message as Outlook.com received it (headers only), with a From display name that looks like
// markup: the checklist must show it as written.
const char* kMessage = "Received: from mta.sender.test (198.51.100.77) by AM0PR01MB1234.eurprd01.prod.outlook.com\r\n"
                       " (10.167.1.1) with Microsoft SMTP Server id 15.20.1; Mon, 24 Nov 2025 10:00:01 +0000\r\n"
                       "Return-Path: bounce@sender.test\r\n"
                       "From: \"<b>Shop</b>\" <news@sender.test>\r\n"
                       "Date: Mon, 24 Nov 2025 10:00:00 +0000\r\n"
                       "Message-ID: <1234@sender.test>\r\n"
                       "Precedence: bulk\r\n";

} // namespace

TEST(TesterViewTest, APastedMessageGivesTheCoresChecklistOffTheUiThread)
{
    MainWindow window(uitest::classifier());
    window.resize(1280, 800);
    window.show();
    TesterView* view = window.testerView();
    ASSERT_NE(view, nullptr);
    window.tabs()->setCurrentWidget(view);
    view->setOffline(true);
    view->setMessage(QString::fromLatin1(kMessage));
    QSignalSpy finished(view, &TesterView::testFinished);
    view->runTest();
    EXPECT_TRUE(view->isRunning()) << "the test runs on its own thread";
    ASSERT_TRUE(finished.wait(uitest::kWaitMs));
    EXPECT_FALSE(view->isRunning());

    bt::TesterOptions o;
    o.offline = true;
    const auto expected = bt::testMessage(kMessage, o);
    QTableWidget* table = view->checklist();
    ASSERT_EQ(table->rowCount(), static_cast<int>(expected.checks.size()));
    for (int r = 0; r < table->rowCount(); ++r) {
        const auto& c = expected.checks[static_cast<std::size_t>(r)];
        EXPECT_EQ(table->item(r, 0)->text().toStdString(), c.status) << c.id;
        EXPECT_TRUE(table->item(r, 1)->text().startsWith(QString::fromStdString(c.id))) << c.id;
        EXPECT_EQ(table->item(r, 2)->text().toStdString(), c.detail) << c.id;
    }
    EXPECT_EQ(view->report().ip, "198.51.100.77");
    // The From check's evidence holds the display name as written (a table item is never markup).
    bool sawMarkup = false;
    for (int r = 0; r < table->rowCount(); ++r)
        sawMarkup = sawMarkup || table->item(r, 3)->text().contains(u"<b>Shop</b>"_s);
    EXPECT_TRUE(sawMarkup);

    // Copy JSON: what the CLI's --json gives for the same report.
    QApplication::clipboard()->clear();
    for (auto* b : view->findChildren<QPushButton*>())
        if (b->text().remove(u'&') == u"Copy JSON"_s)
            b->click();
    const auto j = nlohmann::json::parse(QApplication::clipboard()->text().toStdString());
    EXPECT_EQ(j["ip"], "198.51.100.77");
    EXPECT_EQ(j["checks"].size(), expected.checks.size());
}

TEST(TesterViewTest, APasteThatIsNoMessageSaysWhy)
{
    TesterView view(nullptr);
    view.setOffline(true);
    view.setMessage(u"just a line of text, no headers"_s);
    QSignalSpy finished(&view, &TesterView::testFinished);
    view.runTest();
    ASSERT_TRUE(finished.wait(uitest::kWaitMs));
    EXPECT_EQ(view.checklist()->rowCount(), 0);
    const auto* summary = view.findChild<QLabel*>(u"testerSummary"_s);
    ASSERT_NE(summary, nullptr);
    EXPECT_TRUE(summary->text().startsWith(u"Not tested:"_s)) << summary->text().toStdString();
}
