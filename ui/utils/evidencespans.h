// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArrayView>
#include <QList>
#include <QString>
#include <QTextCharFormat>

#include <cstddef>

namespace bt
{
struct Diagnosis;
}

namespace btui
{

/// A range of UTF-16 positions in a QString (and so in the QTextDocument showing it).
struct TextSpan {
    qsizetype start = 0;
    qsizetype length = 0;

    friend bool operator==(const TextSpan&, const TextSpan&) = default;
};

/// UTF-16 position, in the QString that `utf8` was made from, of the character starting at
/// `byteOffset`. Offsets past the end give the string's length; an offset inside a multi-byte
/// sequence gives the position of that character.
qsizetype utf16Offset(QByteArrayView utf8, std::size_t byteOffset);

/// The words of one evidence entry: diagnosis.replyText between its byte offsets, decoded, without
/// a multi-line reply's line codes (bt::readableWords). Empty when the offsets do not fit the reply.
QString evidenceText(const bt::Diagnosis& diagnosis, qsizetype index);

/// Where the diagnosis' evidence lies in the text it was made from.
///
/// Evidence offsets point into replyText, which is not always a verbatim slice of the input:
/// a Diagnostic-Code folded over several lines comes back joined with single spaces. So each
/// piece is first tried at its exact place (replyOffset + start), then searched from there on
/// with any run of whitespace (and the "550-5.7.1" prefixes that multi-line replies repeat)
/// allowed between its words, then anywhere in the text. Pieces not found are left out.
///
/// `text` is the QString the user sees, `utf8` its toUtf8() (what the core saw) and
/// `replyOffset` the primary reply's Reply::sourceOffset.
QList<TextSpan> locateEvidence(const QString& text, const QByteArray& utf8, std::size_t replyOffset,
                               const bt::Diagnosis& diagnosis);

/// Where the words of the diagnosis' rival reading (bt::Diagnosis::alternative) lie in the
/// text, found as locateEvidence finds the verdict's; empty when there is no rival reading.
QList<TextSpan> locateAlternative(const QString& text, const QByteArray& utf8, std::size_t replyOffset,
                                  const bt::Diagnosis& diagnosis);

/// How a rival reading's words are marked wherever a reply is shown: a dotted underline in the
/// rival family's colour and no tint, so the verdict's tinted evidence still stands out; the
/// tooltip names the rival reason.
QTextCharFormat alternativeFormat(const bt::Diagnosis& diagnosis);

} // namespace btui
