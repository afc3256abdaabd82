// SPDX-License-Identifier: MIT
#include "utils/bouncefile.h"

#include "bounce.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QMimeData>
#include <QStringDecoder>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace btui
{

namespace
{

QString tr(const char* text)
{
    return QCoreApplication::translate("BounceFile", text);
}

} // namespace

BounceFile readBounceFile(const QString& path)
{
    BounceFile result;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        result.error = tr("Cannot open %1: %2").arg(QFileInfo(path).fileName(), file.errorString());
        return result;
    }
    if (file.size() > kMaxBounceFileSize) {
        constexpr double mebibyte = 1024.0 * 1024.0;
        result.error = tr("%1 is %2 MB; a bounce is expected to be under %3 MB.")
                           .arg(QFileInfo(path).fileName())
                           .arg(double(file.size()) / mebibyte, 0, 'f', 1)
                           .arg(double(kMaxBounceFileSize) / mebibyte, 0, 'f', 0);
        return result;
    }
    const QByteArray bytes = file.readAll();
    if (file.error() != QFileDevice::NoError) {
        result.error = tr("Cannot read %1: %2").arg(QFileInfo(path).fileName(), file.errorString());
        return result;
    }

    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = utf8.decode(bytes);
    if (utf8.hasError())
        text = QString::fromLatin1(bytes);
    result.text = normalizeLineEndings(std::move(text));
    result.bytes = bytes;
    return result;
}

QString normalizeLineEndings(QString text)
{
    text.replace(u"\r\n"_s, u"\n"_s);
    text.replace(u'\r', u'\n');
    return text;
}

bool isBounceFileName(const QString& fileName)
{
    return fileName.endsWith(u".eml"_s, Qt::CaseInsensitive) || fileName.endsWith(u".txt"_s, Qt::CaseInsensitive);
}

QString droppedBounceFile(const QMimeData* mime)
{
    if (!mime || !mime->hasUrls())
        return {};
    const QList<QUrl> urls = mime->urls();
    for (const QUrl& url : urls) {
        if (url.isLocalFile() && isBounceFileName(url.fileName()))
            return url.toLocalFile();
    }
    return {};
}

} // namespace btui

bool btui::looksLikeEmail(const QString& text)
{
    // One definition for the window and the CLI (core/bounce.h).
    const QByteArray utf8 = text.left(64 * 1024).toUtf8();
    return bt::looksLikeEmail(std::string_view(utf8.constData(), std::size_t(utf8.size())));
}
