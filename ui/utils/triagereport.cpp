// SPDX-License-Identifier: MIT
#include "utils/triagereport.h"

#include "analysis.h"
#include "fields.h"
#include "knowledge.h"
#include "utils/fieldwords.h"

#include <QBuffer>
#include <QByteArray>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QLocale>
#include <QPageLayout>
#include <QPageSize>
#include <QPrinter>
#include <QRegularExpression>
#include <QStringList>
#include <QTextDocument>
#include <QUrl>

#include <algorithm>
#include <exception>

using namespace Qt::StringLiterals;

namespace btui
{

namespace
{

constexpr int kTopGroups = 10;
constexpr int kMaxIncidents = 20;
constexpr int kElide = 160;

QString tr(const char* text)
{
    return QCoreApplication::translate("TriageReport", text);
}

QString qs(const std::string& s)
{
    return QString::fromStdString(s);
}

/// Workspace text made safe for HTML: reply texts and keys come from the outside world.
QString esc(const std::string& s, int elide = 0)
{
    QString t = qs(s);
    if (elide > 0 && t.size() > elide)
        t = t.left(elide) + u'…';
    return t.toHtmlEscaped();
}

QString percent(double rate)
{
    return QLocale::system().toString(rate * 100.0, 'f', 2) + u" %"_s;
}

QString number(std::int64_t n)
{
    return QLocale::system().toString(qlonglong(n));
}

QString cell(const QString& html, bool right = false)
{
    return (right ? u"<td align=\"right\">"_s : u"<td>"_s) + html + u"</td>"_s;
}

QString headerRow(const QStringList& labels)
{
    QString row = u"<tr>"_s;
    for (const QString& l : labels)
        row += u"<th align=\"left\">"_s + l.toHtmlEscaped() + u"</th>"_s;
    return row + u"</tr>"_s;
}

QString tableStart()
{
    // Attributes rather than CSS: QTextDocument (the PDF path) knows only a subset of CSS.
    return u"<table border=\"1\" cellspacing=\"0\" cellpadding=\"4\" width=\"100%\">"_s;
}

QString levelWords(const std::string& level)
{
    if (level == "act")
        return tr("act (above 3 %)");
    if (level == "watch")
        return tr("watch (1 to 3 %)");
    if (level == "low")
        return tr("low (below 1 %)");
    return {};
}

/// The "Of" column: what the rate divides, with its numbers.
QString basisWords(const bt::GroupRow& r)
{
    if (r.rateBasis == "sent") {
        QString s = tr("%1 sent").arg(number(r.sent));
        if (r.outsideBasis > 0)
            s += u" "_s + tr("(%1 bounces from bounce-only sources not in it)").arg(number(r.outsideBasis));
        return s;
    }
    if (r.rateBasis == "given")
        return tr("%1 sent (your count)").arg(number(r.sent));
    return tr("bounces (sends unknown)");
}

QString groupSection(const bt::TriageReport& report, bt::GroupBy by, const QString& title, const QString& keyLabel)
{
    const auto found = report.groups.find(by);
    const std::vector<bt::GroupRow> none;
    const std::vector<bt::GroupRow>& rows = found == report.groups.end() ? none : found->second;
    QString html = u"<h3>"_s + title.toHtmlEscaped() + u"</h3>"_s;
    if (rows.empty())
        return html + u"<p>"_s + tr("No bounces.").toHtmlEscaped() + u"</p>"_s;
    html += tableStart()
        + headerRow({keyLabel, tr("Bounces"), tr("Deferrals"), tr("Deliveries"), tr("Rate"), tr("Of"), tr("Level"),
                     tr("Families"), tr("Lifted later")});
    const int shown = std::min<int>(kTopGroups, int(rows.size()));
    for (int i = 0; i < shown; ++i) {
        const bt::GroupRow& r = rows[std::size_t(i)];
        std::vector<std::pair<std::string, std::int64_t>> fams(r.families.begin(), r.families.end());
        std::sort(fams.begin(), fams.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        QStringList famWords;
        for (std::size_t k = 0; k < fams.size() && k < 3; ++k)
            famWords << esc(fams[k].first) + u' ' + number(fams[k].second);
        html += u"<tr>"_s + cell(esc(r.key, kElide)) + cell(number(r.bounces), true) + cell(number(r.deferrals), true)
            + cell(number(r.deliveries), true) + cell(percent(r.rate), true) + cell(basisWords(r).toHtmlEscaped())
            + cell(levelWords(r.level).toHtmlEscaped()) + cell(famWords.join(u", "_s))
            + cell(r.liftedLater ? number(r.liftedLater) : QString(), true) + u"</tr>"_s;
    }
    html += u"</table>"_s;
    if (int(rows.size()) > shown)
        html += u"<p><i>"_s + tr("%1 more not shown.").arg(number(std::int64_t(rows.size()) - shown)) + u"</i></p>"_s;
    return html;
}

QString incidentSection(const bt::TriageReport& report)
{
    QString html = u"<h2>"_s + tr("Incidents").toHtmlEscaped() + u"</h2>"_s;
    const bool hourly = report.hourly;
    QString rows;
    int count = 0;
    for (const auto& [by, label] :
         {std::pair {bt::GroupBy::Provider, tr("provider")}, {bt::GroupBy::Ip, tr("sending IP")}}) {
        const auto found = report.incidents.find(by);
        if (found == report.incidents.end())
            continue;
        for (const bt::Incident& in : found->second) {
            if (count >= kMaxIncidents)
                break;
            ++count;
            // The span: its first bucket, to its last when it lasted longer.
            const QString span
                = in.end.empty() || in.end == in.bucket ? esc(in.bucket) : esc(in.bucket) + u" \u2013 "_s + esc(in.end);
            rows += u"<tr>"_s + cell(span) + cell(label.toHtmlEscaped() + u": "_s + esc(in.key)) + cell(esc(in.family))
                + cell(number(in.bounces), true) + cell(QLocale::system().toString(in.baseline, 'f', 1), true)
                + cell(in.rate > 0 ? percent(in.rate) : QString(), true) + cell(esc(in.lifted)) + u"</tr>"_s;
        }
    }
    if (count == 0)
        return html + u"<p>"_s
            + tr("No spikes: no family jumped above three times its own baseline at one provider or sending IP.")
                  .toHtmlEscaped()
            + u"</p>"_s;
    return html + tableStart()
        + headerRow({hourly ? tr("Hours") : tr("Days"), tr("Where"), tr("Family"), tr("Bounces"), tr("Baseline"),
                     tr("Rate at peak"), tr("Deliveries again")})
        + rows + u"</table>"_s;
}

QString liftedSection(const bt::TriageReport& report)
{
    QString html = u"<h2>"_s + tr("Blocks lifted later").toHtmlEscaped() + u"</h2>"_s;
    const std::vector<bt::LiftedBlock>& blocks = report.lifted;
    if (blocks.empty())
        return html + u"<p>"_s
            + tr("None: no policy or reputation block was followed by a delivery to the same domain.").toHtmlEscaped()
            + u"</p>"_s;
    html += u"<p>"_s
        + tr("Policy or reputation blocks to these domains were followed by a delivery: the block was lifted, "
             "the addresses need not be suppressed.")
              .toHtmlEscaped()
        + u"</p>"_s + tableStart()
        + headerRow({tr("Domain"), tr("Provider"), tr("Bounces"), tr("Last bounce"), tr("Lifted at")});
    for (const bt::LiftedBlock& b : blocks)
        html += u"<tr>"_s + cell(esc(b.domain)) + cell(esc(b.provider)) + cell(number(b.bounces), true)
            + cell(esc(b.lastBounce)) + cell(esc(b.liftedAt)) + u"</tr>"_s;
    return html + u"</table>"_s;
}

QString fixesSection(const bt::TriageReport& report, const bt::KnowledgeBase* kb)
{
    QString html = u"<h2>"_s + tr("Recommended fixes, in order").toHtmlEscaped() + u"</h2>"_s;
    const std::vector<bt::ReasonCount>& reasons = report.reasons;
    const std::int64_t bounces = report.totals.bounces;
    if (reasons.empty())
        return html + u"<p>"_s + tr("No bounces: nothing to fix.").toHtmlEscaped() + u"</p>"_s;
    html += u"<p>"_s
        + tr("The reasons with the most bounces first; within each, the steps cheapest first.").toHtmlEscaped()
        + u"</p><ol>"_s;
    for (const bt::ReasonCount& r : reasons) {
        const bt::ReasonInfo* info = kb ? kb->reasonInfo(r.reason) : nullptr;
        html += u"<li><p><b>"_s + esc(r.reason) + u"</b>"_s;
        if (info && !info->title.empty())
            html += u" — "_s + esc(info->title);
        html += u" ("_s
            + tr("%1 bounces, %2 of the bounces shown)")
                  .arg(number(r.bounces), percent(bounces > 0 ? double(r.bounces) / double(bounces) : 0.0))
                  .toHtmlEscaped()
            + u"</p>"_s;
        if (info && !info->explanation.empty())
            html += u"<p>"_s + esc(info->explanation) + u"</p>"_s;
        if (!r.example.empty())
            html += u"<p><i>"_s + tr("Typical reply:").toHtmlEscaped() + u"</i> <code>"_s + esc(r.example, 300)
                + u"</code></p>"_s;
        if (info && !info->steps.empty()) {
            html += u"<ol type=\"a\">"_s;
            for (const std::string& step : info->steps)
                html += u"<li>"_s + esc(step) + u"</li>"_s;
            html += u"</ol>"_s;
        } else {
            html += u"<p>"_s + tr("No default steps for this reason: read the replies.").toHtmlEscaped() + u"</p>"_s;
        }
        html += u"</li>"_s;
    }
    return html + u"</ol>"_s;
}

QString imageDataUri(const QImage& image)
{
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return u"data:image/png;base64,"_s + QString::fromLatin1(png.toBase64());
}

/// The filter in words ("provider: Gmail; from …"), "all events" when empty.
} // namespace

QString reportFilterWords(const bt::EventFilter& filter)
{
    if (filter.empty())
        return tr("all events");
    QStringList parts;
    for (const bt::Field& field : bt::kFields) {
        if (!bt::isSet(filter, field))
            continue;
        const QStringList values = fieldValues(filter, field);
        if (field.kind == bt::FieldKind::Time) {
            if (!values[0].isEmpty())
                parts << tr("from %1").arg(values[0]);
            if (!values[1].isEmpty())
                parts << tr("before %1").arg(values[1]);
        } else if (field.kind == bt::FieldKind::Number) { // an id: "template #12"
            parts << fieldWord(field) + u" #"_s + values.front();
        } else {
            parts << fieldLabel(field) + u": "_s + values.join(u", "_s);
        }
    }
    return parts.join(u"; "_s);
}

QString triageReportHtml(const bt::TriageReport& report, const bt::EventFilter& filter, const QList<QImage>& charts,
                         const bt::KnowledgeBase* kb)
{
    const QString title = tr("Bounce triage report");
    const QString file = QString::fromStdString(report.file);
    QString html = u"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"_s + title.toHtmlEscaped()
        + u"</title></head><body>\n<h1>"_s + title.toHtmlEscaped() + u"</h1>\n"_s;
    html += u"<p>"_s + tr("Workspace:").toHtmlEscaped() + u" "_s + QFileInfo(file).fileName().toHtmlEscaped()
        + u"<br>"_s + tr("Filter:").toHtmlEscaped() + u" "_s + reportFilterWords(filter).toHtmlEscaped() + u"<br>"_s
        + tr("Generated:").toHtmlEscaped() + u" "_s
        + QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toHtmlEscaped() + u"</p>\n"_s;

    const bt::TriageTotals& t = report.totals;
    html += u"<h2>"_s + tr("Totals").toHtmlEscaped() + u"</h2>\n"_s + tableStart()
        + headerRow({tr("Events"), tr("Bounces"), tr("Deliveries"), tr("Bounce rate"), tr("Level")});
    if (t.sent > 0) {
        // Over the sources that record deliveries only: bounce emails and bounce exports say
        // nothing of what was sent.
        const double rate = double(t.rateBounces) / double(t.sent);
        html += u"<tr>"_s + cell(number(t.events), true) + cell(number(t.bounces), true)
            + cell(number(t.deliveries), true) + cell(percent(rate), true)
            + cell(levelWords(bt::levelOf(rate)).toHtmlEscaped()) + u"</tr></table>\n<p>"_s
            + tr("The bounce rate is %1 bounces of %2 messages sent, over the sources that record deliveries "
                 "(mail logs, event streams).")
                  .arg(number(t.rateBounces), number(t.sent))
                  .toHtmlEscaped();
        if (t.bounces > t.rateBounces)
            html += u" "_s
                + tr("%1 bounces from sources that record no sends (bounce emails, bounce exports) are not in it.")
                      .arg(number(t.bounces - t.rateBounces))
                      .toHtmlEscaped();
        html += u" "_s
            + tr("In the tables below each group's rate is on its own basis, named beside it: of sent, of send "
                 "counts you gave, or its share of the bounces where its sends are unknown.")
                  .toHtmlEscaped()
            + u"</p>\n"_s;
    } else {
        html += u"<tr>"_s + cell(number(t.events), true) + cell(number(t.bounces), true)
            + cell(number(t.deliveries), true) + cell(tr("unknown").toHtmlEscaped()) + cell(QString())
            + u"</tr></table>\n<p>"_s
            + tr("No source in this selection records deliveries (bounce emails and bounce exports do not), so no "
                 "overall bounce rate can be given: the tables below show each group's share of the bounces, or "
                 "its rate of the send counts you gave.")
                  .toHtmlEscaped()
            + u"</p>\n"_s;
    }

    if (!charts.isEmpty()) {
        html += u"<h2>"_s + tr("Charts").toHtmlEscaped() + u"</h2>\n"_s;
        for (const QImage& chart : charts) {
            if (chart.isNull())
                continue;
            // At most a page's width; both the browser and QTextDocument honour the attribute.
            const int width = std::min(chart.width(), 640);
            html += u"<p><img src=\""_s + imageDataUri(chart) + u"\" width=\""_s + QString::number(width)
                + u"\" alt=\""_s + tr("chart").toHtmlEscaped() + u"\"></p>\n"_s;
        }
    }

    html += u"<h2>"_s + tr("Where the bounces concentrate").toHtmlEscaped() + u"</h2>\n"_s;
    html += groupSection(report, bt::GroupBy::Provider, tr("Top providers"), tr("Provider"));
    html += groupSection(report, bt::GroupBy::Domain, tr("Top recipient domains"), tr("Domain"));
    html += groupSection(report, bt::GroupBy::Ip, tr("Top sending IPs"), tr("Sending IP"));
    html += groupSection(report, bt::GroupBy::Template, tr("Top reply templates"), tr("Template"));
    html += incidentSection(report);
    html += liftedSection(report);
    html += fixesSection(report, kb);
    html += u"\n</body></html>\n"_s;
    return html;
}

bool printReportToPdf(const QString& html, const QString& pdfPath, QString* error)
{
    auto fail = [error](const QString& why) {
        if (error)
            *error = why;
        return false;
    };
    // The HTML embeds its charts as data: URIs so a saved .html file stands alone. The PDF path
    // does not rely on QTextDocument decoding them: each becomes a named image resource.
    QTextDocument doc;
    QString body = html;
    static const QRegularExpression dataImage(u"src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\""_s);
    int n = 0;
    QRegularExpressionMatch m;
    qsizetype from = 0;
    while ((m = dataImage.match(body, from)).hasMatch()) {
        QImage image;
        image.loadFromData(QByteArray::fromBase64(m.captured(1).toLatin1()), "PNG");
        const QString name = u"btreport://chart"_s + QString::number(n++);
        doc.addResource(QTextDocument::ImageResource, QUrl(name), image);
        const QString replacement = u"src=\""_s + name + u'"';
        body.replace(m.capturedStart(), m.capturedLength(), replacement);
        from = m.capturedStart() + replacement.size();
    }
    doc.setHtml(body);

    QPrinter printer(QPrinter::HighResolution);
    printer.setOutputFormat(QPrinter::PdfFormat);
    printer.setOutputFileName(pdfPath);
    printer.setPageSize(QPageSize(QPageSize::A4));
    printer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout::Millimeter);
    printer.setDocName(doc.metaInformation(QTextDocument::DocumentTitle));
    doc.print(&printer);
    if (!QFileInfo(pdfPath).isFile() || QFileInfo(pdfPath).size() == 0)
        return fail(tr("%1 could not be written.").arg(pdfPath));
    return true;
}

} // namespace btui
