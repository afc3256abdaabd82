// SPDX-License-Identifier: MIT
#include "widgets/elidedlabel.h"

#include "utils/plaintext.h"

#include <QEvent>

ElidedLabel::ElidedLabel(QWidget* parent)
    : QLabel(parent)
{
    // The text is data: never read as markup.
    setTextFormat(Qt::PlainText);
    setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
}

void ElidedLabel::setFullText(const QString& text)
{
    m_full = text;
    setToolTip(btui::plainToolTip(text));
    elide();
}

QSize ElidedLabel::minimumSizeHint() const
{
    // Wide enough for the ellipsis alone; the layout decides the rest.
    return {fontMetrics().horizontalAdvance(u'\u2026'), QLabel::minimumSizeHint().height()};
}

void ElidedLabel::resizeEvent(QResizeEvent* event)
{
    QLabel::resizeEvent(event);
    elide();
}

void ElidedLabel::changeEvent(QEvent* event)
{
    QLabel::changeEvent(event);
    if (event->type() == QEvent::FontChange)
        elide();
}

void ElidedLabel::elide()
{
    const int room = contentsRect().width();
    setText(room > 0 ? fontMetrics().elidedText(m_full, Qt::ElideRight, room) : m_full);
}
