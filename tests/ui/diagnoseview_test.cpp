// SPDX-License-Identifier: MIT
// Offscreen tests of the Diagnose flow: paste → debounce → diagnosis card → highlighted evidence.
#include "classifier.h"
#include "knowledge.h"
#include "mainwindow.h"
#include "utils/diagnosiswords.h"
#include "utils/evidencespans.h"
#include "utils/familycolors.h"
#include "utils/uiresources.h"
#include "views/diagnoseview.h"
#include "widgets/checkpanel.h"
#include "widgets/diagnosiscard.h"

#include <QApplication>
#include <QClipboard>
#include <QDropEvent>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSet>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUrl>

#include <gtest/gtest.h>

using namespace Qt::StringLiterals;

namespace
{

const QString kSpamhausReply = u"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
                               "zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1"_s;
const QString kUserUnknownReply = u"550 5.1.1 <x@example.com>: Recipient address rejected: User unknown"_s;
constexpr int kWaitMs = 3000;

std::shared_ptr<const bt::Classifier> sharedClassifier()
{
    // Compiling the rules once is enough for every test.
    static const auto classifier = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    return classifier;
}

QString qs(const std::string& text)
{
    return QString::fromStdString(text);
}

/// True when one of the editor's extra selections covers `needle` (case-insensitive), i.e. the
/// needle's first occurrence lies within a highlighted range.
bool highlightCovers(const DiagnoseView& view, const QString& needle)
{
    const QString text = view.text();
    const qsizetype at = text.indexOf(needle, 0, Qt::CaseInsensitive);
    if (at < 0)
        return false;
    const QList<QTextEdit::ExtraSelection> selections = view.evidenceSelections();
    for (const QTextEdit::ExtraSelection& selection : selections) {
        if (selection.cursor.selectionStart() <= at && selection.cursor.selectionEnd() >= at + needle.size())
            return true;
    }
    return false;
}

class DiagnoseViewTest : public ::testing::Test
{
protected:
    DiagnoseViewTest()
        : view(sharedClassifier())
    {
        view.resize(1100, 700);
        view.show();
    }

    /// Sets the text and waits for the debounced diagnosis.
    void diagnose(const QString& text)
    {
        QSignalSpy spy(&view, &DiagnoseView::diagnosisChanged);
        view.setText(text);
        ASSERT_TRUE(spy.wait(kWaitMs));
    }

    DiagnoseView view;
};

} // namespace

TEST_F(DiagnoseViewTest, PastedSpamhausBlockIsReputationAndSpamRelated)
{
    // The real flow: the reply is on the clipboard and pasted into the editor.
    QApplication::clipboard()->setText(kSpamhausReply);
    QSignalSpy spy(&view, &DiagnoseView::diagnosisChanged);
    view.editor()->setFocus();
    view.editor()->paste();
    // Debounced: nothing is diagnosed in the same event-loop turn as the paste.
    EXPECT_EQ(spy.count(), 0);
    ASSERT_TRUE(spy.wait(kWaitMs));
    EXPECT_EQ(spy.count(), 1);

    ASSERT_TRUE(view.hasDiagnosis());
    EXPECT_EQ(view.diagnosis().family, "reputation");
    EXPECT_EQ(view.diagnosis().spamRelated, "yes");

    const QString card = view.card()->plainText();
    EXPECT_TRUE(card.contains(u"Family: reputation"_s)) << qPrintable(card);
    EXPECT_TRUE(card.contains(u"Spam-related: yes"_s)) << qPrintable(card);
    EXPECT_TRUE(card.contains(u"Spamhaus"_s)) << qPrintable(card);
    EXPECT_TRUE(view.card()->spamRelatedText().contains(u"Spam-related: yes"_s));

    // The blocklist is shown with a clickable delisting page.
    const QLabel* blocklists = view.card()->blocklistsLabel();
    EXPECT_TRUE(blocklists->isVisible());
    EXPECT_TRUE(blocklists->openExternalLinks());
    EXPECT_TRUE(blocklists->text().contains(u"Spamhaus"_s));
    EXPECT_TRUE(blocklists->text().contains(u"<a href=\"http"_s)) << qPrintable(blocklists->text());

    EXPECT_FALSE(view.evidenceSelections().isEmpty());
    EXPECT_TRUE(highlightCovers(view, u"zen.spamhaus.org"_s));
}

TEST_F(DiagnoseViewTest, ARivalReadingsWordsAreUnderlinedApart)
{
    diagnose(u"452 4.5.3 Too many recipients: Too many messages sent"_s);
    ASSERT_FALSE(bt::alternativeReading(view.diagnosis()).empty());
    EXPECT_TRUE(highlightCovers(view, u"Too many recipients"_s));
    EXPECT_TRUE(highlightCovers(view, u"Too many messages"_s));
    // The verdict's words are tinted; the rival's only underlined with dots.
    bool dotted = false;
    for (const QTextEdit::ExtraSelection& selection : view.evidenceSelections()) {
        if (selection.format.underlineStyle() != QTextCharFormat::DotLine)
            continue;
        dotted = true;
        EXPECT_EQ(selection.cursor.selectedText(), u"Too many messages"_s);
        EXPECT_FALSE(selection.format.hasProperty(QTextFormat::BackgroundBrush));
    }
    EXPECT_TRUE(dotted);
    EXPECT_TRUE(view.card()->plainText().contains(u"Also possible"_s)) << qPrintable(view.card()->plainText());
}

TEST_F(DiagnoseViewTest, WholeBounceEmailListsEveryRecipientAndTheOriginal)
{
    // A real Postfix bounce from the corpus with two bounced recipients.
    ASSERT_TRUE(view.loadFile(QStringLiteral(BT_SHARED_DIR "/corpus/sisimai/maildir/bsd/lhost-postfix-02.eml")));
    QSignalSpy spy(&view, &DiagnoseView::diagnosisChanged);
    ASSERT_TRUE(spy.wait(kWaitMs));
    ASSERT_EQ(view.records().size(), 2u);
    QTreeWidget* list = view.recipientList();
    ASSERT_TRUE(list->isVisible());
    ASSERT_EQ(list->topLevelItemCount(), 2);
    const QString first = list->topLevelItem(0)->text(0);
    const QString second = list->topLevelItem(1)->text(0);
    EXPECT_NE(first, second);
    EXPECT_EQ(QString::fromStdString(view.diagnosis().replyText), QString::fromStdString(view.records()[0].replyText));

    // Selecting the second row shows that recipient's diagnosis.
    list->setCurrentItem(list->topLevelItem(1));
    EXPECT_EQ(QString::fromStdString(view.diagnosis().replyText), QString::fromStdString(view.records()[1].replyText));
    EXPECT_EQ(view.card()->diagnosis().reason, view.records()[1].diagnosis.reason);

    // The returned message's sender is shown, as plain text.
    EXPECT_TRUE(view.originalText().contains(u"From: "_s)) << qPrintable(view.originalText());
}

TEST_F(DiagnoseViewTest, SingleReplyHidesTheRecipientList)
{
    diagnose(u"550 5.1.1 <x@example.com>: Recipient address rejected: User unknown"_s);
    EXPECT_TRUE(view.records().empty());
    EXPECT_FALSE(view.recipientList()->isVisible());
}

TEST_F(DiagnoseViewTest, UserUnknownIsAddressAndSuppress)
{
    diagnose(kUserUnknownReply);
    EXPECT_EQ(view.diagnosis().family, "address");
    EXPECT_EQ(view.diagnosis().action, "suppress");
    EXPECT_EQ(view.diagnosis().spamRelated, "no");
    EXPECT_TRUE(view.diagnosis().hardBounce);

    const QString card = view.card()->plainText();
    EXPECT_TRUE(card.contains(u"Family: address"_s)) << qPrintable(card);
    EXPECT_TRUE(card.contains(u"Action: suppress"_s)) << qPrintable(card);
    EXPECT_TRUE(card.contains(u"Spam-related: no"_s)) << qPrintable(card);
    EXPECT_TRUE(card.contains(u"Codes: 550 5.1.1"_s)) << qPrintable(card);
    EXPECT_TRUE(card.contains(u"hard bounce"_s)) << qPrintable(card);
}

TEST_F(DiagnoseViewTest, ClosedAccountAfterThePartyMarkerIsSuppressedWhatever571Says)
{
    // The cause after "Recipient address rejected:" decides, not the 5.7.1; a disabled mailbox
    // is no hard bounce, but the card must not tell anyone to keep the address.
    diagnose(u"550 5.7.1 <x@example.com>: Recipient address rejected: Account closed"_s);
    EXPECT_EQ(view.diagnosis().reason, "suspend");
    EXPECT_EQ(view.diagnosis().confidence, "rule");
    const QString card = view.card()->plainText();
    EXPECT_TRUE(card.contains(u"Decided by: rule"_s)) << qPrintable(card);
    EXPECT_TRUE(card.contains(u"stop sending to this address"_s)) << qPrintable(card);
    EXPECT_FALSE(card.contains(u"keep the address"_s)) << qPrintable(card);

    diagnose(kSpamhausReply);
    EXPECT_TRUE(view.card()->plainText().contains(u"keep the address"_s));
}

TEST_F(DiagnoseViewTest, ClearEmptiesTheDnsCheckPanelToo)
{
    diagnose(kSpamhausReply);
    auto* ip = view.checks()->findChild<QLineEdit*>(u"checkIp"_s);
    ASSERT_NE(ip, nullptr);
    EXPECT_EQ(ip->text(), u"192.0.2.1"_s);
    EXPECT_FALSE(view.checks()->isHidden());

    view.clear();
    EXPECT_TRUE(ip->text().isEmpty()) << qPrintable(ip->text());
    EXPECT_TRUE(view.checks()->findChild<QLineEdit*>(u"checkDomain"_s)->text().isEmpty());
    EXPECT_TRUE(view.checks()->isHidden()) << "nothing to check without a bounce";
}

TEST_F(DiagnoseViewTest, AReplyAloneOffersTheDomainItNamesToTheDnsCheck)
{
    // Gmail's 2024 wording names the refused domain only in the reply: pasted alone (no From,
    // no envelope sender) the check panel still gets it, and the IP.
    diagnose(u"550-5.7.26 Your email has been blocked because the sender is unauthenticated. 550-5.7.26 Gmail "
             u"requires all senders to authenticate with either SPF or DKIM. 550-5.7.26  550-5.7.26  "
             u"Authentication results: 550-5.7.26  DKIM = did not pass 550-5.7.26  SPF [Example.com] with ip: "
             u"[192.0.2.1] = did not pass 550-5.7.26  550-5.7.26  For instructions on setting up authentication, "
             u"go to 550 5.7.26  https://support.google.com/mail/answer/81126#authentication a1-20020a17 - gsmtp"_s);
    EXPECT_EQ(view.diagnosis().family, "auth");
    EXPECT_EQ(view.checks()->findChild<QLineEdit*>(u"checkDomain"_s)->text(), u"example.com"_s);
    EXPECT_EQ(view.checks()->findChild<QLineEdit*>(u"checkIp"_s)->text(), u"192.0.2.1"_s);

    diagnose(u"550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown"_s);
    EXPECT_TRUE(view.checks()->findChild<QLineEdit*>(u"checkDomain"_s)->text().isEmpty())
        << "a recipient's domain is not the sender's";
}

TEST_F(DiagnoseViewTest, AWholeEmailsNextStepsAreInViewAt1280x800)
{
    // The window at 1280x800 leaves the view about 1280x700. An auth bounce shows the checks
    // panel and the original message's headers too; they must not push the steps out of sight.
    view.resize(1280, 700);
    QSignalSpy spy(&view, &DiagnoseView::diagnosisChanged);
    ASSERT_TRUE(view.loadFile(QStringLiteral(BT_SHARED_DIR "/corpus/sisimai/maildir/bsd/rhost-google-04.eml")));
    ASSERT_TRUE(spy.wait(kWaitMs));
    ASSERT_EQ(view.diagnosis().family, "auth");
    ASSERT_FALSE(view.checks()->isHidden());
    QApplication::processEvents();

    const auto* steps = view.card()->findChild<QLabel*>(u"cardSteps"_s);
    const auto* scroll = view.card()->findChild<QScrollArea*>();
    ASSERT_NE(steps, nullptr);
    ASSERT_NE(scroll, nullptr);
    ASSERT_TRUE(steps->isVisible());
    const int bottom = steps->mapTo(scroll->viewport(), QPoint(0, steps->height())).y();
    EXPECT_LE(bottom, scroll->viewport()->height())
        << "steps end at " << bottom << " px, the card shows " << scroll->viewport()->height() << " px";
}

TEST_F(DiagnoseViewTest, StepsAreNumberedInOrder)
{
    diagnose(kSpamhausReply);
    const bt::Diagnosis& d = view.diagnosis();
    ASSERT_FALSE(d.steps.empty());
    const QString card = view.card()->plainText();
    qsizetype previous = -1;
    for (std::size_t i = 0; i < d.steps.size(); ++i) {
        const qsizetype at = card.indexOf(u"%1. %2"_s.arg(i + 1).arg(qs(d.steps[i])));
        ASSERT_GT(at, previous) << "step " << i + 1 << " missing or out of order";
        previous = at;
    }
    EXPECT_TRUE(view.card()->stepsText().contains(u"<ol"_s));
}

TEST_F(DiagnoseViewTest, CopyButtonPutsCardTextOnClipboard)
{
    diagnose(kSpamhausReply);
    QApplication::clipboard()->clear();
    auto* button = view.card()->findChild<QPushButton*>(u"copyButton"_s);
    ASSERT_NE(button, nullptr);
    ASSERT_TRUE(button->isEnabled());

    QSignalSpy copied(view.card(), &DiagnosisCard::copied);
    QTest::mouseClick(button, Qt::LeftButton);
    EXPECT_EQ(copied.count(), 1);
    const QString clipboard = QApplication::clipboard()->text();
    EXPECT_EQ(clipboard, view.card()->plainText());
    EXPECT_TRUE(clipboard.contains(u"Spam-related: yes"_s));
    EXPECT_TRUE(clipboard.contains(kSpamhausReply)) << "the reply itself belongs in a ticket";
}

TEST_F(DiagnoseViewTest, NonAsciiBeforeTheReplyKeepsHighlightOnTheEvidence)
{
    // Multi-byte UTF-8 (two-, three- and four-byte sequences) before the reply: byte offsets
    // and UTF-16 positions differ, and a wrong conversion highlights the wrong characters.
    diagnose(u"Grüße — von 😀 André:\n"_s + kSpamhausReply);
    ASSERT_EQ(view.diagnosis().family, "reputation");
    const QList<QTextEdit::ExtraSelection> selections = view.evidenceSelections();
    ASSERT_FALSE(selections.isEmpty());
    for (qsizetype i = 0; i < selections.size(); ++i) {
        const QString selected = selections[i].cursor.selectedText();
        EXPECT_FALSE(selected.isEmpty());
        EXPECT_TRUE(kSpamhausReply.contains(selected, Qt::CaseInsensitive)) << qPrintable(selected);
    }
    EXPECT_TRUE(highlightCovers(view, u"zen.spamhaus.org"_s));
}

TEST_F(DiagnoseViewTest, BundledSampleIsDiagnosed)
{
    QSignalSpy spy(&view, &DiagnoseView::diagnosisChanged);
    ASSERT_TRUE(view.loadFile(btui::sampleBouncePath()));
    ASSERT_TRUE(spy.wait(kWaitMs));
    ASSERT_TRUE(view.hasDiagnosis());
    const bt::Diagnosis& d = view.diagnosis();
    // The sample is Gmail's 550-5.7.26 "sender is unauthenticated" (Sisimai: authfailure).
    EXPECT_EQ(d.basicCode, 550);
    EXPECT_EQ(d.enhancedCode, "5.7.26");
    EXPECT_EQ(d.family, "auth");
    EXPECT_FALSE(view.card()->isEmpty());
    EXPECT_FALSE(view.card()->plainText().isEmpty());
    EXPECT_FALSE(view.evidenceSelections().isEmpty()) << "evidence of a folded reply is found in the email";
}

TEST_F(DiagnoseViewTest, EmptyTextShowsNoDiagnosis)
{
    diagnose(kUserUnknownReply);
    ASSERT_TRUE(view.hasDiagnosis());
    QSignalSpy spy(&view, &DiagnoseView::diagnosisChanged);
    view.clear();
    EXPECT_GE(spy.count(), 1);
    EXPECT_FALSE(view.hasDiagnosis());
    EXPECT_TRUE(view.card()->isEmpty());
    EXPECT_TRUE(view.card()->plainText().isEmpty());
    EXPECT_TRUE(view.evidenceSelections().isEmpty());
}

TEST_F(DiagnoseViewTest, LoadFileFallsBackToLatin1AndNormalisesLineEndings)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(u"latin1.eml"_s);
    QFile file(path);
    ASSERT_TRUE(file.open(QIODevice::WriteOnly));
    // "Réponse" in Latin-1 (0xE9 is not valid UTF-8 on its own), CRLF line endings.
    file.write("Subject: R\xE9ponse\r\n\r\n");
    file.write(kUserUnknownReply.toLatin1());
    file.write("\r\n");
    file.close();

    QSignalSpy spy(&view, &DiagnoseView::diagnosisChanged);
    ASSERT_TRUE(view.loadFile(path));
    ASSERT_TRUE(spy.wait(kWaitMs));
    EXPECT_TRUE(view.text().contains(u"Réponse"_s));
    EXPECT_FALSE(view.text().contains(u'\r'));
    EXPECT_EQ(view.diagnosis().family, "address");
}

TEST_F(DiagnoseViewTest, DroppedEmlFileIsLoadedNotPastedAsUrl)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(u"dropped.eml"_s);
    QFile file(path);
    ASSERT_TRUE(file.open(QIODevice::WriteOnly));
    file.write(kUserUnknownReply.toUtf8());
    file.close();

    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    QWidget* target = view.editor()->viewport();
    const QPoint at = target->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    EXPECT_TRUE(enter.isAccepted());

    QSignalSpy loaded(&view, &DiagnoseView::fileLoaded);
    QSignalSpy diagnosed(&view, &DiagnoseView::diagnosisChanged);
    QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    EXPECT_EQ(loaded.count(), 1);
    ASSERT_TRUE(diagnosed.wait(kWaitMs));
    EXPECT_EQ(view.text(), kUserUnknownReply) << "the file's text, not its URL";
    EXPECT_EQ(view.diagnosis().family, "address");
}

TEST_F(DiagnoseViewTest, MissingFileReportsFailure)
{
    QSignalSpy failed(&view, &DiagnoseView::failed);
    EXPECT_FALSE(view.loadFile(u"/nonexistent/bounce.eml"_s));
    EXPECT_EQ(failed.count(), 1);
}

// locateEvidence on its own, with a hand-made diagnosis: a Diagnostic-Code folded over lines
// comes back from the core joined with single spaces, so the evidence is not a verbatim slice.
TEST(EvidenceSpansTest, FindsEvidenceAcrossFoldedLines)
{
    bt::Diagnosis d;
    d.replyText = "550-5.7.26 This mail has been blocked because the sender is unauthenticated. "
                  "550-5.7.26 Gmail requires all senders to authenticate";
    const std::string words = "sender is unauthenticated. 550-5.7.26 Gmail";
    const std::size_t start = d.replyText.find(words);
    d.evidence.push_back({start, start + words.size(), "test"});

    const QString pasted = u"Diagnostic-Code: smtp; 550-5.7.26 This mail has been blocked because the sender\n"
                           "    is unauthenticated.\n    550-5.7.26 Gmail requires all senders to authenticate\n"_s;
    const QByteArray utf8 = pasted.toUtf8();
    const std::size_t offset = std::size_t(utf8.indexOf("550-5.7.26"));
    const QList<btui::TextSpan> spans = btui::locateEvidence(pasted, utf8, offset, d);
    ASSERT_EQ(spans.size(), 1);
    EXPECT_EQ(pasted.mid(spans[0].start, spans[0].length), u"sender\n    is unauthenticated.\n    550-5.7.26 Gmail"_s);
}

// A multi-line reply pasted from a TSV cell or a log, its line breaks escaped: the core reads
// it as its lines, and the evidence that runs across an escaped break is found in the text as
// pasted.
TEST(EvidenceSpansTest, FindsEvidenceAcrossEscapedLineBreaks)
{
    const bt::Classifier classifier(bt::KnowledgeBase::loadDefault());
    const QString pasted = u"421-4.7.0 [x.x.x.x 15] Our system has detected an unusual rate of\\n421-4.7.0 "
                           "unsolicited mail originating from your IP address.\\r\\n421 4.7.0 Please visit "
                           "https://support.google.com/mail/?p=UnsolicitedRateLimitError - gsmtp"_s;
    const QByteArray utf8 = pasted.toUtf8();
    const bt::Diagnosis d = classifier.diagnoseText(std::string_view(utf8.constData(), std::size_t(utf8.size())));
    ASSERT_EQ(d.family, "rate_limit");
    const QList<btui::TextSpan> spans = btui::locateEvidence(pasted, utf8, 0, d);
    ASSERT_FALSE(spans.isEmpty());
    QStringList found;
    for (const auto& span : spans)
        found << pasted.mid(span.start, span.length);
    EXPECT_TRUE(found.contains(u"unusual rate of\\n421-4.7.0 unsolicited mail"_s))
        << found.join(u" | "_s).toStdString();
}

// A reply quoted in a colleague's message: the core reads it unquoted, and the evidence that
// runs across a quoted line break is found in the pasted text with its "> " marks.
TEST(EvidenceSpansTest, FindsEvidenceAcrossQuotedLines)
{
    const bt::Classifier classifier(bt::KnowledgeBase::loadDefault());
    const QString pasted = u"> 550 5.7.1 <bob@example.net>: Recipient address rejected: Your MTA is listed\n"
                           "> in too many DNSBLs\n"_s;
    const QByteArray utf8 = pasted.toUtf8();
    const bt::Diagnosis d = classifier.diagnoseText(std::string_view(utf8.constData(), std::size_t(utf8.size())));
    ASSERT_EQ(d.reason, "blocked");
    const std::size_t offset = std::size_t(utf8.indexOf("550 5.7.1"));
    const QList<btui::TextSpan> spans = btui::locateEvidence(pasted, utf8, offset, d);
    ASSERT_FALSE(spans.isEmpty());
    QStringList found;
    for (const auto& span : spans)
        found << pasted.mid(span.start, span.length);
    EXPECT_TRUE(found.contains(u"listed\n> in too many DNSBL"_s)) << found.join(u" | "_s).toStdString();
}

TEST(EvidenceSpansTest, MapsUtf8OffsetsToUtf16)
{
    const QString text = u"aé😀b"_s; // 1 + 2 + 4 + 1 bytes; 1 + 1 + 2 + 1 UTF-16 units
    const QByteArray utf8 = text.toUtf8();
    EXPECT_EQ(btui::utf16Offset(utf8, 0), 0);
    EXPECT_EQ(btui::utf16Offset(utf8, 1), 1);
    EXPECT_EQ(btui::utf16Offset(utf8, 3), 2);
    EXPECT_EQ(btui::utf16Offset(utf8, 7), 4);
    EXPECT_EQ(btui::utf16Offset(utf8, 8), 5);
    EXPECT_EQ(btui::utf16Offset(utf8, 100), text.size());

    bt::Diagnosis d;
    d.replyText = "x é 😀 zen.spamhaus.org";
    const std::size_t start = d.replyText.find("zen");
    d.evidence.push_back({start, d.replyText.size(), "test"});
    const QString pasted = u"Grüße\n"_s + QString::fromStdString(d.replyText);
    const QByteArray pastedUtf8 = pasted.toUtf8();
    const QList<btui::TextSpan> spans
        = btui::locateEvidence(pasted, pastedUtf8, std::size_t(pastedUtf8.indexOf('x')), d);
    ASSERT_EQ(spans.size(), 1);
    EXPECT_EQ(pasted.mid(spans[0].start, spans[0].length), u"zen.spamhaus.org"_s);
}

TEST(FamilyColorsTest, EveryFamilyHasItsOwnColour)
{
    const QList<QString>& families = btui::families();
    // The core's vocabulary decides which families exist: each has a colour, a phrase and a
    // place in the legend's order, and each action its words.
    QList<QString> core;
    for (const auto f : bt::vocabularyFamilies())
        core << QString::fromUtf8(f.data(), qsizetype(f.size()));
    EXPECT_EQ(families, core);
    for (const QString& family : families)
        EXPECT_FALSE(btui::familyPhrase(family).isEmpty()) << family.toStdString();
    for (const auto a : bt::vocabularyActions())
        EXPECT_FALSE(btui::actionPhrase(QString::fromUtf8(a.data(), qsizetype(a.size()))).isEmpty()) << a;
    QSet<QRgb> colours;
    for (const QString& family : families)
        colours.insert(btui::familyColor(family).rgb());
    EXPECT_EQ(colours.size(), families.size());
    EXPECT_EQ(btui::familyColor(u"no-such-family"), btui::familyColor(u"unknown"));
}

TEST(MainWindowTest, ConstructsWithDiagnoseTabAndTheSample)
{
    MainWindow window(sharedClassifier());
    window.show();
    ASSERT_GE(window.tabs()->count(), 1);
    EXPECT_EQ(window.tabs()->widget(0), window.diagnoseView());
    EXPECT_EQ(window.tabs()->tabText(0).remove(u'&'), u"Diagnose"_s);

    // Opens on the bundled sample, so a first start shows a real diagnosis.
    DiagnoseView* view = window.diagnoseView();
    if (!view->hasDiagnosis()) {
        QSignalSpy spy(view, &DiagnoseView::diagnosisChanged);
        ASSERT_TRUE(spy.wait(kWaitMs));
    }
    EXPECT_TRUE(view->hasDiagnosis());
    EXPECT_EQ(view->diagnosis().enhancedCode, "5.7.26");
    EXPECT_FALSE(window.statusBar()->currentMessage().isEmpty());
}

TEST(MainWindowTest, TheVerdictIsShownOnlyInTheDiagnoseView)
{
    MainWindow window(sharedClassifier());
    window.show();
    DiagnoseView* view = window.diagnoseView();
    if (!view->hasDiagnosis()) {
        QSignalSpy spy(view, &DiagnoseView::diagnosisChanged);
        ASSERT_TRUE(spy.wait(kWaitMs));
    }
    const QString verdict = window.statusBar()->currentMessage();
    ASSERT_TRUE(verdict.contains(u"5.7.26"_s)) << qPrintable(verdict);

    // In Triage the Diagnose view's verdict would read as if it were about an event.
    window.tabs()->setCurrentIndex(1);
    EXPECT_FALSE(window.statusBar()->currentMessage().contains(u"5.7.26"_s))
        << qPrintable(window.statusBar()->currentMessage());
    // A new diagnosis made while another view is shown stays out of its status bar too.
    QSignalSpy changed(view, &DiagnoseView::diagnosisChanged);
    view->setText(kUserUnknownReply);
    ASSERT_TRUE(changed.wait(kWaitMs));
    EXPECT_FALSE(window.statusBar()->currentMessage().contains(u"userunknown"_s));
    // Back in Diagnose, its verdict is there again.
    window.tabs()->setCurrentIndex(0);
    EXPECT_TRUE(window.statusBar()->currentMessage().contains(u"userunknown"_s))
        << qPrintable(window.statusBar()->currentMessage());
}

TEST(MainWindowTest, OpenedFilesGoToRecentFiles)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(u"reply.txt"_s);
    QFile file(path);
    ASSERT_TRUE(file.open(QIODevice::WriteOnly));
    file.write(kUserUnknownReply.toUtf8());
    file.close();

    MainWindow window(sharedClassifier());
    ASSERT_TRUE(window.openFile(path));
    ASSERT_FALSE(window.recentFiles().isEmpty());
    EXPECT_EQ(window.recentFiles().constFirst(), path);
    EXPECT_FALSE(window.recentFiles().contains(btui::sampleBouncePath())) << "the sample is not a recent file";
}

// A reading nearly as strong as the verdict is on the card and in its copied text, as plain text.
TEST(DiagnosisCardTest, ARivalReadingIsShownBesideTheVerdict)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    const bt::Classifier classifier(kb);
    const auto d = classifier.diagnoseText("452 4.5.3 Too many recipients: Too many messages sent");
    ASSERT_FALSE(bt::alternativeReading(d).empty());
    DiagnosisCard card;
    card.setKnowledge(kb.get());
    card.setDiagnosis(d);
    const auto* summary = card.findChild<QLabel*>(u"cardSummary"_s);
    ASSERT_NE(summary, nullptr);
    EXPECT_TRUE(summary->text().contains(u"Also possible"_s)) << qPrintable(summary->text());
    EXPECT_TRUE(summary->text().contains(u"rate_limit / speeding"_s)) << qPrintable(summary->text());
    const QString copied = DiagnosisCard::toPlainText(d, kb.get());
    EXPECT_TRUE(copied.contains(u"Also possible: "_s)) << qPrintable(copied);
    EXPECT_TRUE(copied.contains(u"\u201CToo many messages\u201D"_s)) << qPrintable(copied);

    // Words of the reply stay words: markup in them is shown, not rendered.
    bt::Diagnosis marked = d;
    marked.replyText = "452 4.5.3 Too many recipients: <b>Too many messages</b> sent";
    marked.alternativeEvidence.start = marked.replyText.find("<b>");
    marked.alternativeEvidence.end = marked.replyText.find("sent") - 1;
    card.setDiagnosis(marked);
    EXPECT_TRUE(summary->text().contains(u"&lt;b&gt;Too many messages&lt;/b&gt;"_s)) << qPrintable(summary->text());
}

// In a narrow details pane (the triage view at 1024 px) the headline gets a row of its own under
// the badge and Copy, where squeezed between them it wrapped a word a line; a wide card keeps
// all three in one row.
TEST(DiagnosisCardTest, ANarrowCardGivesTheHeadlineARowOfItsOwn)
{
    auto kb = bt::KnowledgeBase::loadDefault();
    const bt::Classifier classifier(kb);
    DiagnosisCard card;
    card.setKnowledge(kb.get());
    card.setDiagnosis(classifier.diagnoseText(kUserUnknownReply.toStdString()));
    card.resize(700, 400);
    card.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&card));
    EXPECT_FALSE(card.headlineOnItsOwnRow());
    const auto* headline = card.findChild<QLabel*>(u"cardHeadline"_s);
    ASSERT_NE(headline, nullptr);
    const auto* copy = card.findChild<QPushButton*>(u"copyButton"_s);
    ASSERT_NE(copy, nullptr);
    QTest::qWait(20);
    EXPECT_EQ(headline->mapTo(&card, QPoint()).y(), copy->mapTo(&card, QPoint()).y());

    card.resize(290, 400);
    QTest::qWait(20);
    EXPECT_TRUE(card.headlineOnItsOwnRow());
    EXPECT_GE(headline->mapTo(&card, QPoint()).y(), copy->mapTo(&card, QPoint()).y() + copy->height());
    // The headline now has the card's width: "The mailbox does not exist" in one line.
    EXPECT_LE(headline->height(), headline->fontMetrics().lineSpacing() * 2);
}
