// SPDX-License-Identifier: MIT
#pragma once

#include <QColor>
#include <QList>
#include <QString>
#include <QStringView>

namespace btui
{

/// The thirteen families of vocabulary.md, in the order a person works through them
/// (cheapest, most certain signal first); charts and legends use this order.
const QList<QString>& families();

/// The one colour of a family, shared by every view and chart. Unknown words get the
/// colour of "unknown".
QColor familyColor(QStringView family);

/// Black or white, whichever reads better on familyColor(family).
QColor familyTextColor(QStringView family);

/// A light tint of the family colour, for highlighting text that stays readable in black.
QColor familyTint(QStringView family);

/// `color` mixed with white, keeping `share` (0…1) of it. Mixing rather than alpha gives the
/// same result on any background a style may choose, and black text on it keeps its contrast.
QColor tinted(const QColor& color, double share);

} // namespace btui
