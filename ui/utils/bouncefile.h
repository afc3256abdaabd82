// SPDX-License-Identifier: MIT
#pragma once

#include <QString>

class QMimeData;

namespace btui
{

/// Files larger than this are refused: a bounce is a few kilobytes, and a text editor
/// holding hundreds of megabytes would freeze the window for no diagnosis gained.
inline constexpr qint64 kMaxBounceFileSize = qint64(16) * 1024 * 1024;

/// The outcome of reading a bounce file for display.
struct BounceFile {
    QString text; ///< decoded, line endings normalised to "\n"
    QByteArray bytes; ///< the file as it is: what parse and import read (charsets, line ends)
    QString error; ///< empty on success, else a sentence for the user
    bool ok() const { return error.isEmpty(); }
};

/// Reads a file (or a ":/" resource) as text: UTF-8 when the bytes are valid UTF-8, else
/// Latin-1, which maps every byte to a character so nothing is lost or refused. Bounces in
/// ISO-2022-JP stay readable ASCII escapes; other legacy charsets are the core's business.
BounceFile readBounceFile(const QString& path);

/// CRLF and lone CR become LF. QTextDocument turns each of "\r" and "\n" into a block break,
/// so a DOS file would otherwise show a blank line after every line.
QString normalizeLineEndings(QString text);

/// True when the text starts like a whole e-mail message (a header block with From, Subject,
/// Received, Date …), so the e-mail reader should read it rather than the reply finder.
bool looksLikeEmail(const QString& text);

/// True for the names a bounce is saved under: *.eml and *.txt (case-insensitive).
bool isBounceFileName(const QString& fileName);

/// The first local bounce file named by a drag (see isBounceFileName), else empty.
QString droppedBounceFile(const QMimeData* mime);

} // namespace btui
