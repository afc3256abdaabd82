// SPDX-License-Identifier: MIT
#include "fieldwords.h"

#include <QCoreApplication>

#include <string>

namespace btui
{
namespace
{

/// One translation context for every field word, wherever it is shown.
QString translated(std::string_view s)
{
    // A copy: translate() reads a NUL-terminated string, which a string_view does not promise.
    return QCoreApplication::translate("bt::Field", std::string(s).c_str());
}

} // namespace

QString fieldWord(const bt::Field& field)
{
    return translated(field.word);
}

QString fieldLabel(const bt::Field& field)
{
    return translated(field.label);
}

QString fieldPanelLabel(const bt::Field& field)
{
    return translated(field.panelLabel);
}

QString fieldHint(const bt::Field& field)
{
    return translated(field.hint);
}

QString groupLabel(bt::GroupBy by)
{
    return translated(bt::groupLabel(by));
}

QStringList fieldValues(const bt::EventFilter& filter, const bt::Field& field)
{
    QStringList out;
    for (const auto& v : bt::valuesOf(filter, field))
        out.append(QString::fromStdString(v));
    return out;
}

QString utcTimeText(const QString& iso)
{
    QString t = iso;
    t.replace(u'T', u' ');
    if (t.endsWith(u'Z'))
        t.chop(1);
    return t;
}

} // namespace btui
