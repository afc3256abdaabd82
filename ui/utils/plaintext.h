// SPDX-License-Identifier: MIT
#pragma once

#include <QString>
#include <QStringList>

// Text that comes from data (replies, provider names, file paths, CSV values) is attacker-
// controlled: a bounce can say "<img src=/home/you/secret.png>". Qt renders tooltips and Qt
// Charts axis labels as HTML whenever the text looks like it, so such text must be escaped there.
namespace btui
{

/// A tooltip that shows `text` literally, line breaks kept, whatever markup it holds.
QString plainToolTip(const QString& text);
/// Labels for a place that always renders HTML (Qt Charts category axes): each escaped.
QStringList escapedLabels(const QStringList& labels);

} // namespace btui
