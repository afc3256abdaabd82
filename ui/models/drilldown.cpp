// SPDX-License-Identifier: MIT
#include "drilldown.h"

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
    const auto tr = [](const char* s) { return QCoreApplication::translate("DrillDown", s); };
    QStringList parts;
    const auto list = [&](const char* label, const std::vector<std::string>& values) {
        if (values.empty())
            return;
        QStringList v;
        for (const auto& s : values)
            v.append(QString::fromStdString(s));
        parts.append(tr(label) + u' ' + v.join(u", "_s));
    };
    if (!f.from.empty() || !f.to.empty())
        parts.append(tr("time") + u' ' + QString::fromStdString(f.from) + u"\u2009\u2013\u2009"_s
                     + QString::fromStdString(f.to));
    list("provider", f.providers);
    list("domain", f.domains);
    list("IP", f.ips);
    list("campaign", f.campaigns);
    list("type", f.eventTypes);
    list("family", f.families);
    list("reason", f.reasons);
    if (f.basicCode)
        parts.append(tr("code") + u' ' + QString::number(*f.basicCode));
    if (!f.enhancedCode.empty())
        parts.append(tr("status") + u' ' + QString::fromStdString(f.enhancedCode));
    if (!f.spamRelated.empty())
        parts.append(tr("spam-related") + u' ' + QString::fromStdString(f.spamRelated));
    if (f.templateId)
        parts.append(tr("template #") + QString::number(*f.templateId));
    if (!f.text.empty())
        parts.append(tr("text") + u" \u201c"_s + QString::fromStdString(f.text) + u"\u201d"_s);
    return parts.isEmpty() ? tr("all events") : parts.join(u" \u00b7 "_s);
}

} // namespace btui
