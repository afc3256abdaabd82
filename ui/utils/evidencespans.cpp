// SPDX-License-Identifier: MIT
#include "utils/evidencespans.h"

#include "classifier.h"
#include "diagnosis.h"
#include "utils/familycolors.h"

#include <QCoreApplication>
#include <QRegularExpression>

#include <algorithm>
#include <optional>

using namespace Qt::StringLiterals;

namespace btui
{

namespace
{

bool isContinuationByte(unsigned char byte)
{
    return (byte & 0xC0) == 0x80;
}

// Between two words of a reply, a folded copy may hold line breaks, indentation, the quote
// marks of a message that quoted it ("> ") and the repeated "550-5.7.26" / "550 5.7.26"
// prefixes of multi-line SMTP replies. A reply pasted from a TSV cell or a log has its line
// breaks escaped ("\\n", "\\r\\n"): the core reads them as breaks, so they separate words here too.
const QString& flexibleSeparator()
{
    // Possessive runs and a prefix that must start with a digit keep the pattern linear:
    // nested "(\\s+)*\\s+" would backtrack exponentially on long indentation.
    static const QString separator
        = u"(?:\\s|\\\\[rn])++(?:>[>\\s]*+)?(?:[245]\\d\\d[- ](?:[245]\\.\\d{1,3}\\.\\d{1,3})?(?:\\s|\\\\[rn])++)*"_s;
    return separator;
}

QRegularExpression flexiblePattern(const QString& needle)
{
    const QStringList words = needle.split(QRegularExpression(u"\\s+"_s), Qt::SkipEmptyParts);
    QStringList escaped;
    escaped.reserve(words.size());
    for (const QString& word : words)
        escaped.append(QRegularExpression::escape(word));
    return QRegularExpression(escaped.join(flexibleSeparator()), QRegularExpression::CaseInsensitiveOption);
}

std::optional<TextSpan> findFrom(const QString& text, const QString& needle, qsizetype from)
{
    from = std::clamp<qsizetype>(from, 0, text.size());
    const qsizetype exact = text.indexOf(needle, from, Qt::CaseInsensitive);
    if (exact >= 0)
        return TextSpan {exact, needle.size()};
    if (!needle.contains(QRegularExpression(u"\\s"_s)))
        return std::nullopt;
    const QRegularExpressionMatch match = flexiblePattern(needle).match(text, from);
    if (match.hasMatch())
        return TextSpan {match.capturedStart(), match.capturedLength()};
    return std::nullopt;
}

} // namespace

qsizetype utf16Offset(QByteArrayView utf8, std::size_t byteOffset)
{
    const qsizetype end = std::min<qsizetype>(qsizetype(byteOffset), utf8.size());
    qsizetype units = 0;
    for (qsizetype i = 0; i < end; ++i) {
        const auto byte = static_cast<unsigned char>(utf8[i]);
        if (isContinuationByte(byte))
            continue;
        // A four-byte sequence is a code point outside the BMP: a surrogate pair in UTF-16.
        units += byte >= 0xF0 ? 2 : 1;
    }
    return units;
}

QString evidenceText(const bt::Diagnosis& diagnosis, qsizetype index)
{
    if (index < 0 || std::size_t(index) >= diagnosis.evidence.size())
        return {};
    const bt::Evidence& evidence = diagnosis.evidence[std::size_t(index)];
    const std::string& reply = diagnosis.replyText;
    if (evidence.start >= evidence.end || evidence.end > reply.size())
        return {};
    // Without a multi-line reply's line codes between the words, as the classifier read them.
    return QString::fromStdString(bt::readableWords(reply, diagnosis.basicCode, evidence.start, evidence.end));
}

namespace
{

QList<TextSpan> locate(const QString& text, const QByteArray& utf8, std::size_t replyOffset, const std::string& reply,
                       const std::vector<bt::Evidence>& pieces)
{
    QList<TextSpan> spans;
    for (const bt::Evidence& evidence : pieces) {
        if (evidence.start >= evidence.end || evidence.end > reply.size())
            continue;
        const QByteArrayView bytes(reply.data() + evidence.start, qsizetype(evidence.end - evidence.start));

        // The common case: a reply pasted on its own or quoted verbatim.
        const std::size_t at = replyOffset + evidence.start;
        if (at + std::size_t(bytes.size()) <= std::size_t(utf8.size())
            && QByteArrayView(utf8).sliced(qsizetype(at), bytes.size()) == bytes) {
            const qsizetype start = utf16Offset(utf8, at);
            const qsizetype end = utf16Offset(utf8, at + std::size_t(bytes.size()));
            spans.append(TextSpan {start, end - start});
            continue;
        }

        const QString needle = QString::fromUtf8(bytes).trimmed();
        if (needle.isEmpty())
            continue;
        // Joining folded lines only ever shortens the text, so the evidence cannot sit before
        // its place in the joined reply; searching from there skips earlier repeats of a word.
        std::optional<TextSpan> span = findFrom(text, needle, utf16Offset(utf8, at));
        if (!span)
            span = findFrom(text, needle, utf16Offset(utf8, replyOffset));
        if (!span)
            span = findFrom(text, needle, 0);
        if (span && span->length > 0)
            spans.append(*span);
    }
    return spans;
}

} // namespace

QList<TextSpan> locateEvidence(const QString& text, const QByteArray& utf8, std::size_t replyOffset,
                               const bt::Diagnosis& diagnosis)
{
    return locate(text, utf8, replyOffset, diagnosis.replyText, diagnosis.evidence);
}

QList<TextSpan> locateAlternative(const QString& text, const QByteArray& utf8, std::size_t replyOffset,
                                  const bt::Diagnosis& diagnosis)
{
    if (bt::alternativeReading(diagnosis).empty())
        return {};
    return locate(text, utf8, replyOffset, diagnosis.replyText, {diagnosis.alternativeEvidence});
}

QTextCharFormat alternativeFormat(const bt::Diagnosis& diagnosis)
{
    const auto reason = bt::alternativeReading(diagnosis);
    QTextCharFormat format;
    if (reason.empty())
        return format;
    format.setUnderlineStyle(QTextCharFormat::DotLine);
    format.setUnderlineColor(familyColor(QString::fromStdString(std::string(bt::familyOf(reason)))));
    format.setToolTip(QCoreApplication::translate("btui", "Also possible: \u201C%1\u201D")
                          .arg(QString::fromStdString(std::string(reason))));
    return format;
}

} // namespace btui
