// SPDX-License-Identifier: MIT
#include "widgets/diagnosiscard.h"

#include "classifier.h"
#include "utils/diagnosiswords.h"
#include "utils/evidencespans.h"
#include "utils/familycolors.h"

#include <QApplication>
#include <QClipboard>
#include <QEvent>
#include <QGridLayout>
#include <QIcon>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QResizeEvent>
#include <QScrollArea>
#include <QUrl>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace
{

QString qs(const std::string& text)
{
    return QString::fromStdString(text);
}

QString html(const std::string& text)
{
    return QString::fromStdString(text).toHtmlEscaped();
}

// Only web links become clickable: a local rules file could carry any URL scheme, and a
// click on a card should never run or open something local.
bool isWebUrl(const std::string& url)
{
    const QUrl parsed(qs(url), QUrl::StrictMode);
    return parsed.isValid() && (parsed.scheme() == u"https"_s || parsed.scheme() == u"http"_s);
}

QString link(const std::string& url, const QString& text)
{
    if (!isWebUrl(url))
        return text.toHtmlEscaped();
    return u"<a href=\"%1\">%2</a>"_s.arg(QString::fromUtf8(QUrl(qs(url)).toEncoded()).toHtmlEscaped(),
                                          text.toHtmlEscaped());
}

// Long URLs do not wrap in a QLabel and would push the card wider than the window; the
// middle of a URL is the least telling part, so that is what goes.
QString shortUrl(const std::string& url)
{
    QString text = qs(url);
    text.remove(QRegularExpression(u"^https?://"_s));
    constexpr qsizetype maxLength = 56;
    if (text.size() > maxLength)
        text = text.left(maxLength / 2 - 1) + u"\u2026"_s + text.right(maxLength / 2 - 1);
    return text;
}

QString hexColor(const QColor& color)
{
    return color.name(QColor::HexRgb);
}

// Colours of the spam-related line. The word is always written out, so colour is a help,
// never the only signal.
QColor spamColor(const std::string& spamRelated)
{
    if (spamRelated == "yes")
        return QColor(0xD5, 0x5E, 0x00);
    if (spamRelated == "often")
        return QColor(0xE6, 0x9F, 0x00);
    if (spamRelated == "no")
        return QColor(0x00, 0x9E, 0x73);
    return QColor(0x77, 0x77, 0x77);
}

/// Distinct evidence words in the order the classifier listed them.
QStringList evidenceWords(const bt::Diagnosis& diagnosis)
{
    QStringList words;
    for (qsizetype i = 0; i < qsizetype(diagnosis.evidence.size()); ++i) {
        const QString word = btui::evidenceText(diagnosis, i).simplified();
        if (!word.isEmpty() && !words.contains(word, Qt::CaseInsensitive))
            words.append(word);
    }
    return words;
}

QString quoted(const QStringList& words)
{
    QStringList list;
    list.reserve(words.size());
    for (const QString& word : words)
        list.append(u"\u201C"_s + word + u"\u201D"_s);
    return list.join(u", "_s);
}

QString headline(const bt::Diagnosis& diagnosis, const bt::KnowledgeBase* knowledge)
{
    QString phrase = btui::reasonPhrase(knowledge, diagnosis.reason);
    if (phrase.isEmpty())
        return qs(diagnosis.reason);
    phrase[0] = phrase[0].toUpper(); // titles are written to sit mid-sentence
    return phrase;
}

QString serverText(const bt::Diagnosis& diagnosis)
{
    QString server = qs(diagnosis.remoteHost);
    if (!diagnosis.remoteIp.empty())
        server += (server.isEmpty() ? QString() : u" "_s) + u"["_s + qs(diagnosis.remoteIp) + u"]"_s;
    if (!diagnosis.smtpStage.empty()) {
        const QString stage = DiagnosisCard::tr("in reply to %1").arg(qs(diagnosis.smtpStage));
        server += server.isEmpty() ? stage : u", "_s + stage;
    }
    return server;
}

/// " (overruling the rules' systemerror)" when the model overruled a vague rule or a code alone:
/// the reader sees both readings, not a verdict that silently contradicts the rules listed.
QString overrulingText(const bt::Diagnosis& diagnosis)
{
    if (diagnosis.overruled.empty())
        return {};
    return DiagnosisCard::tr(" (overruling the rules' %1)").arg(qs(diagnosis.overruled));
}

/// "The mailbox is full (capacity / mailboxfull) because of “over quota”" when another rule's
/// reading came nearly as strong as the verdict's (bt::Diagnosis::alternative), else empty.
QString alternativeText(const bt::Diagnosis& diagnosis, const bt::KnowledgeBase* knowledge)
{
    const auto alt = bt::alternativeReading(diagnosis);
    if (alt.empty())
        return {};
    const std::string reason(alt);
    QString phrase = btui::reasonPhrase(knowledge, reason);
    if (!phrase.isEmpty())
        phrase[0] = phrase[0].toUpper();
    QString out = (phrase.isEmpty() ? QString() : phrase + u" "_s) + u"("_s + qs(std::string(bt::familyOf(alt)))
        + u" / "_s + qs(reason) + u")"_s;
    if (const auto words = bt::readableWords(diagnosis.replyText, diagnosis.basicCode,
                                             diagnosis.alternativeEvidence.start, diagnosis.alternativeEvidence.end);
        !words.empty())
        out += DiagnosisCard::tr(" because of \u201C%1\u201D").arg(qs(words));
    return out;
}

QLabel* makeSection(QWidget* parent)
{
    auto* label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    label->setTextInteractionFlags(Qt::TextBrowserInteraction);
    label->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    return label;
}

} // namespace

DiagnosisCard::DiagnosisCard(QWidget* parent)
    : QWidget(parent)
{
    m_badge = new QLabel(this);
    m_badge->setAlignment(Qt::AlignCenter);
    m_headline = new QLabel(this);
    m_headline->setObjectName(u"cardHeadline"_s);
    m_headline->setWordWrap(true);
    m_headline->setTextInteractionFlags(Qt::TextSelectableByMouse);
    updateHeadlineFont();

    m_copyButton = new QPushButton(QIcon::fromTheme(u"edit-copy"_s), tr("&Copy"), this);
    m_copyButton->setObjectName(u"copyButton"_s);
    m_copyButton->setToolTip(tr("Copy the diagnosis as plain text, ready for a ticket or a chat"));
    connect(m_copyButton, &QPushButton::clicked, this, &DiagnosisCard::copyToClipboard);

    // Badge, headline and Copy in one row; on a narrow card the headline takes a row of its
    // own (see layoutHeader()): squeezed between the two at 1024 px it wrapped a word a line.
    m_header = new QGridLayout;
    m_header->setColumnStretch(1, 1);
    layoutHeader(false);

    // The headline scrolls with the rest: above the scroll area a short, narrow details pane
    // squeezed the word-wrapped headline to one line and cut the rest of it off.
    auto* body = new QWidget;
    m_spamLine = makeSection(body);
    m_summary = makeSection(body);
    m_summary->setObjectName(u"cardSummary"_s);
    m_explanation = makeSection(body);
    m_steps = makeSection(body);
    m_steps->setObjectName(u"cardSteps"_s);
    m_blocklists = makeSection(body);
    m_blocklists->setOpenExternalLinks(true);
    m_references = makeSection(body);
    m_references->setOpenExternalLinks(true);
    m_rules = makeSection(body);
    m_rules->setForegroundRole(QPalette::PlaceholderText);

    auto* bodyLayout = new QVBoxLayout(body);
    bodyLayout->setContentsMargins(0, 0, 0, 0);
    bodyLayout->setSpacing(10);
    bodyLayout->addLayout(m_header);
    for (QLabel* label : {m_spamLine, m_summary, m_explanation, m_steps, m_blocklists, m_references, m_rules})
        bodyLayout->addWidget(label);
    bodyLayout->addStretch(1);

    m_scroll = new QScrollArea(this);
    m_scroll->setWidget(body);
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_scroll, 1);

    render();
}

DiagnosisCard::~DiagnosisCard() = default;

void DiagnosisCard::setKnowledge(const bt::KnowledgeBase* knowledge)
{
    m_knowledge = knowledge;
    render();
}

void DiagnosisCard::setDiagnosis(const bt::Diagnosis& diagnosis)
{
    m_diagnosis = diagnosis;
    m_empty = false;
    render();
}

void DiagnosisCard::clear()
{
    m_diagnosis = bt::Diagnosis {};
    m_empty = true;
    render();
}

QString DiagnosisCard::plainText() const
{
    return m_empty ? QString() : toPlainText(m_diagnosis, m_knowledge);
}

QString DiagnosisCard::headlineText() const
{
    return m_headline->text();
}

QString DiagnosisCard::spamRelatedText() const
{
    return m_spamLine->text();
}

QString DiagnosisCard::stepsText() const
{
    return m_steps->text();
}

void DiagnosisCard::copyToClipboard()
{
    if (m_empty)
        return;
    QApplication::clipboard()->setText(plainText());
    Q_EMIT copied();
}

void DiagnosisCard::layoutHeader(bool narrow)
{
    m_narrowHeader = narrow;
    for (QWidget* w :
         {static_cast<QWidget*>(m_badge), static_cast<QWidget*>(m_headline), static_cast<QWidget*>(m_copyButton)})
        m_header->removeWidget(w);
    m_header->addWidget(m_badge, 0, 0, Qt::AlignTop | Qt::AlignLeft);
    m_header->addWidget(m_copyButton, 0, 2, Qt::AlignTop);
    if (narrow)
        m_header->addWidget(m_headline, 1, 0, 1, 3);
    else
        m_header->addWidget(m_headline, 0, 1);
}

void DiagnosisCard::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    // Below ~26 average characters beside the badge and the button, the headline wraps a word or
    // two a line: give it the whole width.
    const int beside = width() - m_badge->sizeHint().width() - m_copyButton->sizeHint().width() - 40;
    const bool narrow = beside < m_headline->fontMetrics().averageCharWidth() * 26;
    if (narrow != m_narrowHeader)
        layoutHeader(narrow);
}

void DiagnosisCard::changeEvent(QEvent* event)
{
    // The headline's size is derived from the card's font and the section colours are set by
    // hand, so both follow the user's font and palette changes.
    if (event->type() == QEvent::FontChange || event->type() == QEvent::PaletteChange) {
        updateHeadlineFont();
        render();
    }
    QWidget::changeEvent(event);
}

void DiagnosisCard::updateHeadlineFont()
{
    QFont headlineFont = font();
    headlineFont.setPointSizeF(headlineFont.pointSizeF() * 1.3);
    headlineFont.setBold(true);
    m_headline->setFont(headlineFont);
}

QString DiagnosisCard::toPlainText(const bt::Diagnosis& d, const bt::KnowledgeBase* knowledge)
{
    QStringList lines;
    auto add = [&lines](const QString& label, const QString& value) {
        if (!value.isEmpty())
            lines.append(label + u": "_s + value);
    };
    auto withPhrase = [](const std::string& word, const QString& phrase) {
        return phrase.isEmpty() ? qs(word) : qs(word) + u" \u2014 "_s + phrase;
    };

    lines.append(tr("Bounce Triage diagnosis: %1").arg(headline(d, knowledge)));
    add(tr("Family"), withPhrase(d.family, btui::familyPhrase(qs(d.family))));
    add(tr("Reason"), withPhrase(d.reason, btui::reasonPhrase(knowledge, d.reason)));
    add(tr("Spam-related"), withPhrase(d.spamRelated, btui::spamRelatedPhrase(qs(d.spamRelated))));
    add(tr("Evidence"), quoted(evidenceWords(d)));
    add(tr("Bounce"), btui::bouncePhrase(d));
    QString codes = btui::codesText(d);
    if (!codes.isEmpty() && !d.codeMeaning.empty())
        codes += u" \u2014 "_s + qs(d.codeMeaning);
    add(tr("Codes"), codes);
    add(tr("Provider"), qs(d.provider));
    add(tr("Server"), serverText(d));
    add(tr("Action"), withPhrase(d.action, btui::actionPhrase(qs(d.action))));
    add(tr("Decided by"), withPhrase(d.confidence, btui::confidencePhrase(qs(d.confidence))) + overrulingText(d));
    add(tr("Also possible"), alternativeText(d, knowledge));

    if (!d.explanation.empty()) {
        lines.append(QString());
        lines.append(qs(d.explanation));
    }
    if (!d.steps.empty()) {
        lines.append(QString());
        lines.append(tr("Next steps, cheapest first:"));
        for (std::size_t i = 0; i < d.steps.size(); ++i)
            lines.append(u"%1. %2"_s.arg(i + 1).arg(qs(d.steps[i])));
    }
    if (!d.blocklists.empty()) {
        lines.append(QString());
        lines.append(tr("Blocklists named in the reply:"));
        for (const bt::BlocklistHit& hit : d.blocklists) {
            QString line = u"- "_s + qs(hit.name);
            if (!hit.zone.empty())
                line += u" ("_s + qs(hit.zone) + u")"_s;
            if (!hit.lists.empty())
                line += u": "_s + qs(hit.lists);
            if (!hit.delistUrl.empty())
                line += u". "_s + tr("Delisting: %1").arg(qs(hit.delistUrl));
            lines.append(line);
        }
    }
    if (!d.references.empty()) {
        lines.append(QString());
        lines.append(tr("References:"));
        for (const std::string& url : d.references)
            lines.append(u"- "_s + qs(url));
    }
    if (!d.replyText.empty()) {
        lines.append(QString());
        lines.append(tr("Reply:"));
        lines.append(qs(d.replyText));
    }
    if (!d.ruleIds.empty()) {
        QStringList ids;
        for (const std::string& id : d.ruleIds)
            ids.append(qs(id));
        lines.append(QString());
        lines.append(tr("Rules: %1").arg(ids.join(u", "_s)));
    }
    return lines.join(u'\n') + u'\n';
}

void DiagnosisCard::render()
{
    const bool empty = m_empty;
    m_copyButton->setEnabled(!empty);
    for (QLabel* label : {m_spamLine, m_summary, m_explanation, m_steps, m_blocklists, m_references, m_rules})
        label->setVisible(!empty);

    if (empty) {
        m_badge->hide();
        m_headline->setText(tr("No diagnosis yet"));
        m_explanation->setText(
            tr("Paste an SMTP reply, a bounce message or a whole bounce email on the left, or drop an "
               ".eml or .txt file on the window. The diagnosis appears here as you paste."));
        m_explanation->show();
        return;
    }

    const bt::Diagnosis& d = m_diagnosis;
    const QString family = qs(d.family);

    // The badge carries the family colour that charts and tables use for the same family.
    m_badge->setText(family);
    m_badge->setStyleSheet(
        u"QLabel { background: %1; color: %2; border-radius: 4px; padding: 3px 8px; "
        "font-weight: bold; }"_s.arg(hexColor(btui::familyColor(family)), hexColor(btui::familyTextColor(family))));
    m_badge->show();
    m_headline->setText(headline(d, m_knowledge));

    // "Spam-related" is the question most people open the tool with: its own coloured box,
    // the answer in bold, the words that decided it right under it.
    const QColor spam = spamColor(d.spamRelated);
    const QStringList words = evidenceWords(d);
    QString spamHtml = u"<b>%1</b> %2"_s.arg(tr("Spam-related: %1").arg(html(d.spamRelated)),
                                             u"\u2014 "_s + btui::spamRelatedPhrase(qs(d.spamRelated)).toHtmlEscaped());
    if (!words.isEmpty())
        spamHtml += u"<br>"_s + tr("Evidence: %1").arg(quoted(words).toHtmlEscaped());
    else if (d.spamRelated != "unknown")
        spamHtml += u"<br>"_s + tr("Evidence: the reason's usual verdict (no specific words)");
    m_spamLine->setText(spamHtml);
    m_spamLine->setStyleSheet(
        u"QLabel { background: %1; color: black; border-left: 5px solid %2; padding: 6px; }"_s.arg(
            hexColor(btui::tinted(spam, 0.18)), hexColor(spam)));

    // The summary as a two-column table so the labels line up.
    QString rows;
    auto row = [&rows](const QString& label, const QString& valueHtml) {
        if (!valueHtml.isEmpty())
            rows += u"<tr><td style=\"padding-right:12px\"><b>%1</b></td><td>%2</td></tr>"_s.arg(label.toHtmlEscaped(),
                                                                                                 valueHtml);
    };
    auto wordAndPhrase = [](const std::string& word, const QString& phrase) {
        QString value = u"<code>%1</code>"_s.arg(html(word));
        if (!phrase.isEmpty())
            value += u" \u2014 "_s + phrase.toHtmlEscaped();
        return value;
    };
    row(tr("Family"),
        u"<span style=\"color:%1\">\u25A0</span> "_s.arg(hexColor(btui::familyColor(family)))
            + wordAndPhrase(d.family, btui::familyPhrase(family)));
    row(tr("Reason"), wordAndPhrase(d.reason, btui::reasonPhrase(m_knowledge, d.reason)));
    row(tr("Action"), wordAndPhrase(d.action, btui::actionPhrase(qs(d.action))));
    row(tr("Decided by"),
        wordAndPhrase(d.confidence, btui::confidencePhrase(qs(d.confidence))) + overrulingText(d).toHtmlEscaped());
    // Text from the reply: escaped, never markup.
    row(tr("Also possible"), alternativeText(d, m_knowledge).toHtmlEscaped());
    row(tr("Bounce"), btui::bouncePhrase(d).toHtmlEscaped());
    QString codes = btui::codesText(d).toHtmlEscaped();
    if (codes.isEmpty())
        codes = tr("none in the text").toHtmlEscaped();
    else if (!d.codeMeaning.empty())
        codes += u" \u2014 "_s + html(d.codeMeaning);
    row(tr("Codes"), codes);
    row(tr("Provider"), html(d.provider));
    row(tr("Server"), serverText(d).toHtmlEscaped());
    m_summary->setText(u"<table cellspacing=\"0\" cellpadding=\"2\">"_s + rows + u"</table>"_s);

    m_explanation->setText(html(d.explanation));
    m_explanation->setVisible(!d.explanation.empty());

    if (d.steps.empty()) {
        m_steps->hide();
    } else {
        QString items;
        for (const std::string& step : d.steps)
            items += u"<li>"_s + html(step) + u"</li>"_s;
        m_steps->setText(u"<b>%1</b><ol style=\"margin-top:4px\">%2</ol>"_s.arg(
            tr("Next steps, cheapest first").toHtmlEscaped(), items));
    }

    if (d.blocklists.empty()) {
        m_blocklists->hide();
    } else {
        QString items;
        for (const bt::BlocklistHit& hit : d.blocklists) {
            QString item = u"<b>%1</b>"_s.arg(html(hit.name));
            if (!hit.zone.empty())
                item += u" (<code>%1</code>)"_s.arg(html(hit.zone));
            if (!hit.lists.empty())
                item += u": "_s + html(hit.lists);
            if (!hit.delistUrl.empty())
                item += u"<br>"_s + link(hit.delistUrl, tr("Check the listing and request removal"));
            items += u"<li>"_s + item + u"</li>"_s;
        }
        m_blocklists->setText(u"<b>%1</b><ul style=\"margin-top:4px\">%2</ul>"_s.arg(
            tr("Blocklists named in the reply").toHtmlEscaped(), items));
    }

    if (d.references.empty()) {
        m_references->hide();
    } else {
        QStringList links;
        for (const std::string& url : d.references)
            links.append(link(url, shortUrl(url)));
        m_references->setText(u"<b>%1</b><br>%2"_s.arg(tr("References").toHtmlEscaped(), links.join(u"<br>"_s)));
    }

    if (d.ruleIds.empty()) {
        m_rules->hide();
    } else {
        QStringList ids;
        for (const std::string& id : d.ruleIds)
            ids.append(html(id));
        m_rules->setText(u"<small>%1</small>"_s.arg(tr("Rules: %1").arg(ids.join(u", "_s))));
    }
}
