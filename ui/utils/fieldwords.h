// SPDX-License-Identifier: MIT
#pragma once

#include "fields.h"

#include <QString>
#include <QStringList>

// The words of the core's field table (bt::kFields) as the window shows them: translated
// QStrings, so the filter panel, the drill-down trail, the group headers and the report name a
// field the way the table does and no label is written twice.
namespace btui
{

/// The drill-down trail's word: "IP".
QString fieldWord(const bt::Field& field);
/// The report's and the headers' name: "sending IP".
QString fieldLabel(const bt::Field& field);
/// The filter panel's row, '&' before the access key: "Sending &IP".
QString fieldPanelLabel(const bt::Field& field);
/// The filter panel's placeholder: "e.g. 550".
QString fieldHint(const bt::Field& field);
/// A group header or choice: "Recipient domain", "Day".
QString groupLabel(bt::GroupBy by);
/// The field's values in `filter` (bt::valuesOf) as QStrings.
QStringList fieldValues(const bt::EventFilter& filter, const bt::Field& field);
/// A stored time ("2026-03-14T17:30:12Z", UTC) as the tables show it: "2026-03-14 17:30:12",
/// without the 'T' and 'Z' noise (the column headers say UTC).
QString utcTimeText(const QString& iso);

} // namespace btui
