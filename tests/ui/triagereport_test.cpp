// SPDX-License-Identifier: MIT
// Tests of the printable triage report: a small real workspace (imported files plus a reply
// carrying markup) → HTML with totals, groups, rates, fixes from reasons.json → PDF.
#include "analysis.h"
#include "classifier.h"
#include "importer.h"
#include "knowledge.h"
#include "sqlite.h"
#include "utils/triagereport.h"
#include "workspace.h"

#include <QFile>
#include <QImage>
#include <QLocale>
#include <QPainter>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace Qt::StringLiterals;

namespace
{

const std::string kData = BT_TEST_DATA;
const QString kHostileReply = u"550 5.7.1 <script>alert('x')</script> rejected by policy & more"_s;

class TriageReportTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(dir.isValid());
        ws.emplace(QFile::encodeName(dir.filePath(u"report.btw"_s)).toStdString());
        for (const char* f : {"sendgrid-bounces.csv", "ses-notifications.jsonl", "postfix-mail.log"}) {
            const auto r = bt::importPath(*ws, kData + '/' + f, *classifier);
            ASSERT_TRUE(r.error.empty()) << r.error;
        }
        // A reply with markup in it: the report must show it as text, never run it.
        const std::int64_t importId = ws->beginImport("hand-made", 0, "hand-made-sha", "test");
        bt::Event e;
        e.timestamp = "2024-05-01T10:00:00Z";
        e.recipient = "mallory@example.net";
        e.recipientDomain = "example.net";
        e.provider = "Example <Mail>";
        e.replyText = kHostileReply.toStdString();
        e.templateText = e.replyText;
        e.diagnosis = classifier->diagnoseText(e.replyText);
        e.basicCode = 550;
        e.enhancedCode = "5.7.1";
        e.dedupKey = "hand-made-1";
        ws->addEvent(importId, e);
        ws->finishImport(importId, {1, 1, 0, 0}, "done");
    }

    QTemporaryDir dir;
    std::shared_ptr<bt::KnowledgeBase> kb = bt::KnowledgeBase::loadDefault();
    std::optional<bt::Classifier> classifier {std::in_place, kb};
    std::optional<bt::Workspace> ws;
};

QImage sampleChart()
{
    QImage image(320, 200, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter p(&image);
    p.fillRect(20, 40, 60, 140, QColor(200, 40, 40));
    return image;
}

} // namespace

TEST_F(TriageReportTest, HtmlHoldsGroupsRatesFixesAndEscapesReplies)
{
    const QString html = btui::triageReportHtml(bt::Triage().report(*ws, {}), {}, {sampleChart()}, kb.get());

    EXPECT_TRUE(html.contains(u"Bounce triage report"_s));
    EXPECT_TRUE(html.contains(u"report.btw"_s));
    EXPECT_TRUE(html.contains(u"all events"_s));
    // Every provider of the group report is named, with its rate or share as written.
    const auto providers = bt::groupReport(*ws, bt::GroupBy::Provider);
    ASSERT_FALSE(providers.empty());
    for (std::size_t i = 0; i < providers.size() && i < 10; ++i) {
        const QString key = QString::fromStdString(providers[i].key).toHtmlEscaped();
        EXPECT_TRUE(html.contains(key)) << providers[i].key;
        const QString rate = QLocale::system().toString(providers[i].rate * 100.0, 'f', 2) + u" %"_s;
        EXPECT_TRUE(html.contains(rate)) << rate.toStdString();
    }
    EXPECT_TRUE(html.contains(u"Gmail"_s));
    // The chart is embedded as a PNG data: URI.
    EXPECT_TRUE(html.contains(u"<img src=\"data:image/png;base64,iVBOR"_s));
    // Recommended fixes: the explanation and a step of the top reasons from reasons.json.
    EXPECT_TRUE(html.contains(u"Recommended fixes, in order"_s));
    const bt::ReasonInfo* userUnknown = kb->reasonInfo("userunknown");
    ASSERT_NE(userUnknown, nullptr);
    ASSERT_FALSE(userUnknown->steps.empty());
    EXPECT_TRUE(html.contains(QString::fromStdString(userUnknown->steps.front()).toHtmlEscaped()))
        << userUnknown->steps.front();
    EXPECT_TRUE(html.contains(QString::fromStdString(userUnknown->explanation).toHtmlEscaped()));
    // Untrusted text is escaped everywhere it appears.
    EXPECT_FALSE(html.contains(u"<script"_s, Qt::CaseInsensitive));
    EXPECT_TRUE(html.contains(u"&lt;script&gt;alert"_s));
    EXPECT_TRUE(html.contains(u"Example &lt;Mail&gt;"_s));
    EXPECT_FALSE(html.contains(u"Example <Mail>"_s));
}

TEST_F(TriageReportTest, FilterNarrowsTheReport)
{
    bt::EventFilter filter;
    filter.providers = {"Gmail"};
    const QString html = btui::triageReportHtml(bt::Triage().report(*ws, filter), filter, {}, kb.get());
    EXPECT_TRUE(html.contains(u"provider: Gmail"_s));
    EXPECT_FALSE(html.contains(u"&lt;script&gt;"_s)) << "the hand-made event is not at Gmail";
    EXPECT_FALSE(html.contains(u"<img"_s));
    EXPECT_TRUE(html.contains(u"Typical reply:"_s));
}

TEST_F(TriageReportTest, WithoutKnowledgeBaseStillListsReasons)
{
    const QString html = btui::triageReportHtml(bt::Triage().report(*ws, {}), {}, {}, nullptr);
    EXPECT_TRUE(html.contains(u"userunknown"_s));
    EXPECT_TRUE(html.contains(u"No default steps"_s));
}

TEST_F(TriageReportTest, PrintsToPdf)
{
    const QString html = btui::triageReportHtml(bt::Triage().report(*ws, {}), {}, {sampleChart()}, kb.get());
    const QString pdf = dir.filePath(u"report.pdf"_s);
    QString error;
    ASSERT_TRUE(btui::printReportToPdf(html, pdf, &error)) << error.toStdString();
    QFile f(pdf);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    EXPECT_TRUE(bytes.startsWith("%PDF")) << bytes.left(16).toStdString();
    EXPECT_GT(bytes.size(), 2000);
    // The chart went in as an image (the data: URI was turned into a document resource).
    EXPECT_TRUE(bytes.contains("/Subtype /Image")) << "no image object in the PDF";
}

TEST_F(TriageReportTest, EachGroupNamesItsBasisAndTheTotalIsOverTheSourcesThatRecordSends)
{
    const QString html = btui::triageReportHtml(bt::Triage().report(*ws, {}), {}, {}, kb.get());
    const QLocale locale;
    // The total: over the Postfix log and SES (which record deliveries) only, counted apart.
    auto count = [&](const char* sql) {
        auto st = ws->db().prepare(sql);
        return st.step() ? st.int64(0) : -1;
    };
    const auto rated = count("SELECT COUNT(*) FROM events e JOIN imports i ON i.id = e.import_id WHERE "
                             "i.format IN ('postfix_log', 'ses_json') AND e.event_type = 'bounce'");
    const auto sent = count("SELECT COUNT(*) FROM events e JOIN imports i ON i.id = e.import_id WHERE "
                            "i.format IN ('postfix_log', 'ses_json') AND e.event_type IN ('bounce', 'delivered')");
    ASSERT_GT(sent, 0);
    EXPECT_TRUE(html.contains(u"The bounce rate is %1 bounces of %2 messages sent"_s.arg(
        locale.toString(qlonglong(rated)), locale.toString(qlonglong(sent)))))
        << qPrintable(html.left(3000));
    EXPECT_TRUE(html.contains(u"from sources that record no sends (bounce emails, bounce exports) are not in it"_s));
    // Every provider row names what its rate divides.
    EXPECT_TRUE(html.contains(u">Of</th>"_s));
    int rows = 0;
    for (const auto& r : bt::groupReport(*ws, bt::GroupBy::Provider)) {
        if (r.rateBasis == "sent" && r.outsideBasis > 0) {
            EXPECT_TRUE(html.contains(u"%1 sent (%2 bounces from bounce-only sources not in it)"_s.arg(
                locale.toString(qlonglong(r.sent)), locale.toString(qlonglong(r.outsideBasis)))))
                << r.key;
            ++rows;
        } else if (r.rateBasis == "share") {
            ++rows;
        }
    }
    EXPECT_GE(rows, 2);
    EXPECT_TRUE(html.contains(u"bounces (sends unknown)"_s));
}

TEST(TriageReportEmailsTest, AWorkspaceOfBounceEmailsGivesSharesAndNoLevel)
{
    QTemporaryDir dir;
    bt::Workspace ws(QFile::encodeName(dir.filePath(u"emails.btw"_s)).toStdString());
    const auto kb = bt::KnowledgeBase::loadDefault();
    const bt::Classifier classifier(kb);
    const auto r = bt::importPath(ws, kData + "/../../resources/sample/bounce-sample.eml", classifier);
    ASSERT_GT(r.counts.imported, 0) << r.error;
    const QString html = btui::triageReportHtml(bt::Triage().report(ws, {}), {}, {}, kb.get());
    EXPECT_TRUE(html.contains(u"No source in this selection records deliveries"_s)) << qPrintable(html.left(2000));
    EXPECT_TRUE(html.contains(u"bounces (sends unknown)"_s));
    for (const char* level : {"act (above", "watch (1 to", "low (below"})
        EXPECT_FALSE(html.contains(QString::fromLatin1(level))) << level;
}
