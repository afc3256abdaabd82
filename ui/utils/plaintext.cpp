// SPDX-License-Identifier: MIT
#include "plaintext.h"

using namespace Qt::StringLiterals;

namespace btui
{

QString plainToolTip(const QString& text)
{
    if (text.isEmpty())
        return {};
    // Wrapping in a paragraph makes Qt take the tooltip as rich text always, so the escaped
    // content is shown as written instead of being guessed plain or HTML from its looks.
    return u"<p style=\"white-space:pre-wrap\">"_s + text.toHtmlEscaped() + u"</p>"_s;
}

QStringList escapedLabels(const QStringList& labels)
{
    QStringList out;
    out.reserve(labels.size());
    for (const QString& l : labels)
        out.append(l.toHtmlEscaped());
    return out;
}

} // namespace btui
