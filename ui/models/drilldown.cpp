// SPDX-License-Identifier: MIT
#include "drilldown.h"

#include "utils/fieldwords.h"

#include <QCoreApplication>
#include <QStringList>

using namespace Qt::StringLiterals;

DrillDown::DrillDown(QObject* parent)
    : QObject(parent)
    , m_stack {bt::EventFilter {}}
{
}

void DrillDown::push(const bt::EventFilter& filter)
{
    if (filter == m_stack.last())
        return;
    m_stack.append(filter);
    Q_EMIT filterChanged();
}

void DrillDown::back()
{
    if (!canGoBack())
        return;
    m_stack.removeLast();
    Q_EMIT filterChanged();
}

void DrillDown::reset()
{
    if (!canGoBack() && m_stack.last().empty())
        return;
    m_stack = {bt::EventFilter {}};
    Q_EMIT filterChanged();
}

namespace btui
{

QString describeFilter(const bt::EventFilter& f)
{
    QStringList parts;
    for (const bt::Field& field : bt::kFields) {
        if (!bt::isSet(f, field))
            continue;
        const QString word = fieldWord(field);
        const QStringList values = fieldValues(f, field);
        if (field.kind == bt::FieldKind::Time)
            parts.append(word + u' ' + values[0] + u"\u2009\u2013\u2009"_s + values[1]);
        else if (field.kind == bt::FieldKind::Number) // an id: "template #12"
            parts.append(word + u" #"_s + values.front());
        else if (field.match == bt::FieldMatch::Words) // typed text, quoted as typed
            parts.append(word + u" \u201c"_s + values.front() + u"\u201d"_s);
        else
            parts.append(word + u' ' + values.join(u", "_s));
    }
    return parts.isEmpty() ? QCoreApplication::translate("DrillDown", "all events") : parts.join(u" \u00b7 "_s);
}

} // namespace btui
