// SPDX-License-Identifier: MIT
// The triage charts on a workspace with many providers and families, at the sizes people use:
// every label Qt Charts draws is read back from the chart's scene, and none may be the "..." Qt
// puts in place of a label it has no room for (issue 13: with 8 providers every label was "…").
#include "analysis.h"
#include "charts/providerchart.h"
#include "charts/templatechart.h"
#include "charts/timechart.h"
#include "classifier.h"
#include "knowledge.h"
#include "mainwindow.h"
#include "models/eventtablemodel.h"
#include "models/grouptablemodel.h"
#include "views/groupsview.h"
#include "views/triageview.h"
#include "widgets/detailspane.h"
#include "workspace.h"

#include <QApplication>
#include <QFile>
#include <QGraphicsScene>
#include <QGraphicsTextItem>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QPlainTextEdit>
#include <QProcess>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>
#include <QTextEdit>
#include <QToolTip>
#include <QValueAxis>

#include <gtest/gtest.h>

#include <set>

using namespace Qt::StringLiterals;

namespace
{

constexpr int kWaitMs = 20000;

/// The shipped rules compiled once for every test of the file.
std::shared_ptr<const bt::Classifier> classifier()
{
    static const auto c = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    return c;
}

/// Shows the window at `size`; true once it is on screen.
bool showAt(MainWindow& window, QSize size)
{
    window.resize(size);
    window.show();
    return QTest::qWaitForWindowExposed(&window);
}

/// Every text Qt Charts drew in a chart: title, axis labels, axis titles.
QStringList drawnTexts(const ChartView* view)
{
    QStringList texts;
    const auto items = view->scene()->items();
    for (const QGraphicsItem* item : items)
        if (const auto* text = dynamic_cast<const QGraphicsTextItem*>(item); text && text->isVisible())
            texts.append(text->toPlainText());
    return texts;
}

/// A workspace of the email corpus and the export fixtures: ~20 providers, every family.
class ChartLayoutTest : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        s_dir = new QTemporaryDir;
        s_path = s_dir->filePath(u"many.btw"_s);
        const QString data = QStringLiteral(BT_TEST_DATA);
        QProcess cli;
        cli.start(QStringLiteral(BT_CLI),
                  {u"import"_s, u"--workspace"_s, s_path, QStringLiteral(BT_SHARED_DIR "/corpus/sisimai/maildir"),
                   data + u"/sendgrid-bounces.csv"_s, data + u"/ses-notifications.jsonl"_s,
                   data + u"/mailgun-events.json"_s, data + u"/postfix-mail.log"_s, data + u"/exim-mainlog"_s,
                   data + u"/postmark-bounces.json"_s, data + u"/sparkpost-events.jsonl"_s});
        ASSERT_TRUE(cli.waitForFinished(120000));
        ASSERT_EQ(cli.exitCode(), 0) << cli.readAllStandardError().toStdString();
    }
    static void TearDownTestSuite()
    {
        delete s_dir;
        s_dir = nullptr;
    }

    static QTemporaryDir* s_dir;
    static QString s_path;
};

QTemporaryDir* ChartLayoutTest::s_dir = nullptr;
QString ChartLayoutTest::s_path;

TEST_F(ChartLayoutTest, EveryChartLabelIsDrawnAtEverySize)
{
    {
        bt::Workspace ws(QFile::encodeName(s_path).toStdString());
        const auto providers = bt::groupReport(ws, bt::GroupBy::Provider, {});
        ASSERT_GE(providers.size(), 12u) << "the test needs a workspace with many providers";
    }
    MainWindow window(classifier());
    ASSERT_TRUE(showAt(window, QSize(1280, 800)));
    TriageView* triage = window.triageView();
    QSignalSpy charts(triage, &TriageView::chartsUpdated);
    ASSERT_TRUE(window.openWorkspace(s_path, false));
    ASSERT_TRUE(charts.wait(kWaitMs));
    EXPECT_GE(triage->legendFamilies().size(), 10) << qPrintable(triage->legendFamilies().join(u", "_s));

    for (const QSize size : {QSize(1024, 640), QSize(1280, 800), QSize(1920, 1080), QSize(900, 600)}) {
        window.resize(size);
        QTest::qWait(100); // the layout settles and the charts refit to their new size
        SCOPED_TRACE(qPrintable(u"%1x%2"_s.arg(size.width()).arg(size.height())));
        // The provider chart has a bar for at least three providers and names each one.
        EXPECT_GE(triage->providerChart()->providers().size(), 3);
        for (const ChartView* chart : {static_cast<const ChartView*>(triage->providerChart()),
                                       static_cast<const ChartView*>(triage->timeChart()),
                                       static_cast<const ChartView*>(triage->templateChart())}) {
            const QStringList texts = drawnTexts(chart);
            EXPECT_GE(texts.size(), 4) << qPrintable(chart->objectName());
            for (const QString& t : texts) {
                EXPECT_FALSE(t.endsWith(u"..."_s))
                    << qPrintable(chart->objectName()) << ": \"" << qPrintable(t) << "\" was cut by Qt Charts";
                EXPECT_NE(t.trimmed(), u"\u2026"_s) << qPrintable(chart->objectName());
            }
        }
        // The time axis names its buckets with years: the data spans 1995 to 2026.
        for (const QString& label : triage->timeChart()->axisLabels())
            EXPECT_TRUE(label.startsWith(u"19"_s) || label.startsWith(u"20"_s)) << qPrintable(label);
        // The legend names every family (words, not only colours).
        QTextDocument legend;
        legend.setHtml(triage->legend()->text());
        for (const QString& family : triage->legendFamilies())
            EXPECT_TRUE(legend.toPlainText().contains(family)) << qPrintable(family);
    }
}

TEST_F(ChartLayoutTest, HoveringAShortenedBarLabelShowsTheWholeNameAndNumbers)
{
    MainWindow window(classifier());
    ASSERT_TRUE(showAt(window, QSize(1024, 640)));
    TriageView* triage = window.triageView();
    QSignalSpy charts(triage, &TriageView::chartsUpdated);
    ASSERT_TRUE(window.openWorkspace(s_path, false));
    ASSERT_TRUE(charts.wait(kWaitMs));
    QTest::qWait(100);
    ProviderChart* chart = triage->providerChart();
    // A label shortened with "…" (at 1024 px "Microsoft 365 / Outlook.com" does not fit).
    const QGraphicsTextItem* shortened = nullptr;
    const auto items = chart->scene()->items();
    for (const QGraphicsItem* item : items)
        if (const auto* text = dynamic_cast<const QGraphicsTextItem*>(item); text && text->isVisible()
            && text->toPlainText().contains(u'\u2026') && !chart->labelTip(text->toPlainText()).isEmpty())
            shortened = text;
    ASSERT_NE(shortened, nullptr) << "no shortened provider label at 1024x640";
    const QString tip = chart->labelTip(shortened->toPlainText());
    EXPECT_TRUE(tip.contains(u"Microsoft 365 / Outlook.com"_s) || tip.contains(u"unknown provider"_s))
        << qPrintable(tip);
    EXPECT_TRUE(tip.contains(u"bounces"_s)) << qPrintable(tip);

    // Hovering it shows that tooltip.
    const QPoint at = chart->mapFromScene(shortened->sceneBoundingRect().center());
    QTest::mouseMove(chart->viewport(), at);
    QMouseEvent move(QEvent::MouseMove, QPointF(at), chart->viewport()->mapToGlobal(QPointF(at)), Qt::NoButton,
                     Qt::NoButton, Qt::NoModifier);
    QApplication::sendEvent(chart->viewport(), &move);
    QTextDocument shown;
    shown.setHtml(QToolTip::text());
    EXPECT_EQ(shown.toPlainText(), tip);
}

TEST(ChartAxes, CountsInTheTensOfThousandsAreDrawnWholeInANarrowChart)
{
    // At 1024x640 a chart gets ~215 px; with five ticks Qt Charts cut "10000" to "10..."
    // (seen on a 200 000-bounce workspace; the fixture workspace's counts are too small).
    std::vector<bt::GroupRow> rows;
    for (int i = 0; i < 6; ++i) {
        bt::GroupRow r;
        r.key = "550 5.7." + std::to_string(i) + " Service unavailable; client host blocked";
        r.bounces = 33000 - i * 40;
        r.templateId = i + 1;
        rows.push_back(r);
    }
    for (const int width : {215, 300, 600}) {
        SCOPED_TRACE(width);
        TemplateChart chart;
        chart.resize(width, 240);
        chart.show();
        ASSERT_TRUE(QTest::qWaitForWindowExposed(&chart));
        chart.setRows(rows);
        QTest::qWait(50);
        int numbers = 0;
        for (const QString& t : drawnTexts(&chart)) {
            EXPECT_FALSE(t.endsWith(u"..."_s)) << "\"" << qPrintable(t) << "\" was cut by Qt Charts";
            bool isNumber = false;
            t.toInt(&isNumber);
            numbers += isNumber;
        }
        EXPECT_GE(numbers, 2) << "at least 0 and one count on the value axis";
        // The axis still reaches past the longest bar but not by a whole bar's length.
        const auto* axis = qobject_cast<QValueAxis*>(chart.chart()->axes(Qt::Horizontal).value(0));
        ASSERT_NE(axis, nullptr);
        EXPECT_GE(axis->max(), 33000);
        EXPECT_LE(axis->max(), 2 * 33000);
    }
}

/// Opens the workspace in `window` shown at `size` and brings up the Groups view with its rows.
GroupsView* showGroups(MainWindow& window, QSize size, const QString& path)
{
    if (!showAt(window, size))
        return nullptr;
    GroupsView* groups = window.groupsView();
    QSignalSpy updated(groups, &GroupsView::groupsUpdated);
    if (!window.openWorkspace(path, false))
        return nullptr;
    window.tabs()->setCurrentWidget(groups);
    if (!updated.wait(kWaitMs) && groups->model()->rowCount() == 0)
        return nullptr;
    QTest::qWait(100);
    return groups;
}

TEST_F(ChartLayoutTest, TheGroupsTableShowsEveryColumnAt1280)
{
    MainWindow window(classifier());
    GroupsView* groups = showGroups(window, QSize(1280, 800), s_path);
    ASSERT_NE(groups, nullptr);
    const QHeaderView* header = groups->table()->horizontalHeader();
    const int viewport = groups->table()->viewport()->width();
    for (int column = 0; column < GroupTableModel::ColumnCount; ++column) {
        const int right = header->sectionViewportPosition(column) + header->sectionSize(column);
        EXPECT_LE(right, viewport) << "column " << column << " ends at " << right << " of " << viewport << " px";
        // Each header text fits its column.
        const QString title = groups->model()->headerData(column, Qt::Horizontal).toString();
        EXPECT_GE(header->sectionSize(column), header->fontMetrics().horizontalAdvance(title)) << qPrintable(title);
    }
}

// At 1024 px the columns do not all fit: the table scrolls sideways rather than squeeze the
// families' column to its swatch (its header read "amilie" and none of its words showed).
TEST_F(ChartLayoutTest, AtTheSmallestSizeTheGroupsTableKeepsEveryHeaderAndTheFamiliesWords)
{
    MainWindow window(classifier());
    GroupsView* groups = showGroups(window, QSize(1024, 640), s_path);
    ASSERT_NE(groups, nullptr);
    const QHeaderView* header = groups->table()->horizontalHeader();
    for (int column = 0; column < GroupTableModel::ColumnCount; ++column) {
        const QString title = groups->model()->headerData(column, Qt::Horizontal).toString();
        EXPECT_GE(header->sectionSize(column), header->fontMetrics().horizontalAdvance(title)) << qPrintable(title);
    }
    const QFontMetrics fm(groups->table()->font());
    EXPECT_GE(header->sectionSize(GroupTableModel::Families), fm.horizontalAdvance(u"reputation 120"_s));
    // Made wide again, the families take what the numbers leave: every column is in view.
    window.resize(1920, 1080);
    QTest::qWait(100);
    const int viewport = groups->table()->viewport()->width();
    const int right = header->sectionViewportPosition(GroupTableModel::ColumnCount - 1)
        + header->sectionSize(GroupTableModel::ColumnCount - 1);
    EXPECT_LE(right, viewport);
    EXPECT_GE(right, viewport - 2) << "the families' column no longer stretches";
}

TEST_F(ChartLayoutTest, RepliesWithMarkupAreShownAsWrittenInEveryWidget)
{
    // Bounce text is a stranger's: a reply with tags (an image of a local file among them) must
    // be shown as written everywhere the window shows it: labels, text views, tooltips.
    QTemporaryDir dir;
    const QString path = dir.filePath(u"markup.btw"_s);
    const QString image = dir.filePath(u"probe.png"_s);
    const QString csv = dir.filePath(u"markup.csv"_s);
    {
        QFile f(csv);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral("created,email,reason,status,event\n"
                               "1700000000,eve@example.net,\"550 5.7.1 <b>bold</b> <h1>big</h1> <img src=%1> "
                               "<a href=http://example.com/x>link</a> rejected\",5.7.1,bounce\n")
                    .arg(image)
                    .toUtf8());
    }
    QProcess cli;
    cli.start(QStringLiteral(BT_CLI), {u"import"_s, u"--workspace"_s, path, csv});
    ASSERT_TRUE(cli.waitForFinished(60000));
    ASSERT_EQ(cli.exitCode(), 0) << cli.readAllStandardError().toStdString();

    MainWindow window(classifier());
    ASSERT_TRUE(showAt(window, QSize(1280, 800)));
    TriageView* triage = window.triageView();
    QSignalSpy charts(triage, &TriageView::chartsUpdated);
    QSignalSpy shown(triage->details(), &DetailsPane::eventShown);
    ASSERT_TRUE(window.openWorkspace(path, false));
    ASSERT_TRUE(charts.wait(kWaitMs));
    if (shown.isEmpty()) {
        ASSERT_TRUE(shown.wait(kWaitMs));
    }
    QTest::qWait(200);
    EXPECT_TRUE(triage->details()->replyText().contains(u"<b>bold</b>"_s));

    // Every label that holds the reply's words holds them as plain text; every text view shows
    // the tags as characters; no tooltip would render them.
    int holding = 0;
    const auto labels = window.findChildren<QLabel*>();
    for (const QLabel* label : labels) {
        if (!label->text().contains(u"bold"_s))
            continue;
        ++holding;
        const bool plain = label->textFormat() == Qt::PlainText
            || (label->textFormat() != Qt::RichText && !Qt::mightBeRichText(label->text()));
        QTextDocument doc;
        doc.setHtml(label->text());
        EXPECT_TRUE(plain || doc.toPlainText().contains(u"<b>bold</b>"_s))
            << qPrintable(label->objectName()) << ": " << qPrintable(label->text());
    }
    const auto edits = window.findChildren<QTextEdit*>();
    for (const QTextEdit* edit : edits)
        if (edit->toPlainText().contains(u"bold"_s)) {
            ++holding;
            EXPECT_TRUE(edit->toPlainText().contains(u"<b>bold</b>"_s)) << qPrintable(edit->objectName());
        }
    const auto plains = window.findChildren<QPlainTextEdit*>();
    for (const QPlainTextEdit* edit : plains)
        if (edit->toPlainText().contains(u"bold"_s))
            ++holding;
    EXPECT_GT(holding, 0) << "the reply is shown somewhere";
    const auto widgets = window.findChildren<QWidget*>();
    for (const QWidget* w : widgets) {
        if (!w->toolTip().contains(u"bold"_s))
            continue;
        QTextDocument doc;
        doc.setHtml(w->toolTip());
        EXPECT_TRUE(!Qt::mightBeRichText(w->toolTip()) || doc.toPlainText().contains(u"<b>bold</b>"_s))
            << qPrintable(w->objectName());
    }
    auto* model = triage->model();
    for (int c = 0; c < model->columnCount(); ++c) {
        const QString tip = model->index(0, c).data(Qt::ToolTipRole).toString();
        if (!tip.contains(u"bold"_s))
            continue;
        QTextDocument doc;
        doc.setHtml(tip);
        EXPECT_TRUE(!Qt::mightBeRichText(tip) || doc.toPlainText().contains(u"<b>bold</b>"_s)) << "column " << c;
    }
}

} // namespace
