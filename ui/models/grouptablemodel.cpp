// SPDX-License-Identifier: MIT
#include "grouptablemodel.h"

#include "replytemplate.h"
#include "utils/familycolors.h"
#include "utils/fieldwords.h"

#include <QCoreApplication>
#include <QLocale>
#include <QStringList>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace btui
{

QString percentText(double rate)
{
    const double p = rate * 100.0;
    return QString::number(p, 'f', p < 10.0 ? 1 : 0) + u"\u2009%"_s;
}

QString levelText(const std::string& level)
{
    const auto tr = [](const char* s) { return QCoreApplication::translate("GroupTableModel", s); };
    if (level == "act")
        return tr("act (> 3 %)");
    if (level == "watch")
        return tr("watch (1\u20133 %)");
    if (level == "low")
        return tr("low (< 1 %)");
    return {};
}

QString rateText(const bt::GroupRow& r)
{
    const auto tr = [](const char* s) { return QCoreApplication::translate("GroupTableModel", s); };
    // The denominator in the cell: "100 % of 3 sent" is read for what it is, a handful.
    if (r.rateBasis == "sent")
        return percentText(r.rate) + tr(" of %1 sent").arg(QLocale().toString(qlonglong(r.sent)));
    if (r.rateBasis == "given")
        return percentText(r.rate) + tr(" of %1 given").arg(QLocale().toString(qlonglong(r.sent)));
    return percentText(r.rate) + tr(" of bounces");
}

QString basisText(const bt::GroupRow& r)
{
    const auto tr = [](const char* s) { return QCoreApplication::translate("GroupTableModel", s); };
    if (r.rateBasis == "sent") {
        QString text = tr("%1 bounces of %2 sent, counted over the sources that record deliveries "
                          "(mail logs, event streams)")
                           .arg(r.rateBounces)
                           .arg(r.sent);
        if (r.outsideBasis > 0)
            text += tr("; %1 more bounces from sources that record no sends (bounce emails, bounce exports) "
                       "are not in the rate")
                        .arg(r.outsideBasis);
        return text;
    }
    if (r.rateBasis == "given")
        return tr("%1 bounces of %2 sent, the send count you imported for this group").arg(r.bounces).arg(r.sent);
    return tr("Share of all bounces: no source in this workspace records this group's sends, so no bounce rate "
              "or level (import a mail log or event stream, or send counts from File > Import Send Counts)");
}

} // namespace btui

GroupTableModel::GroupTableModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void GroupTableModel::setRows(bt::GroupBy by, std::vector<bt::GroupRow> rows, const QSet<QString>& incidentKeys)
{
    beginResetModel();
    m_by = by;
    m_rows = std::move(rows);
    m_incidents = incidentKeys;
    endResetModel();
}

int GroupTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int GroupTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant GroupTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto& r = m_rows[static_cast<std::size_t>(index.row())];
    const QString key = QString::fromStdString(r.key);
    const bool incident = m_incidents.contains(key);
    // The families of a group, largest first: "reputation 12, address 3".
    const auto families = [&r] {
        std::vector<std::pair<std::int64_t, std::string>> v;
        for (const auto& [f, n] : r.families)
            v.emplace_back(n, f);
        std::sort(v.rbegin(), v.rend());
        QStringList parts;
        for (const auto& [n, f] : v)
            parts.append(QString::fromStdString(f) + u' ' + QString::number(n));
        return parts.join(u", "_s);
    };
    // The counts read the same on screen and as sort keys: numbers, so proxies sort them as such.
    const auto count = [&r](int column) -> qint64 {
        switch (column) {
        case Bounces:
            return r.bounces;
        case Deferrals:
            return r.deferrals;
        case Deliveries:
            return r.deliveries;
        case Complaints:
            return r.complaints;
        case LiftedLater:
            return r.liftedLater;
        }
        return -1;
    };
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case Key:
            // Events without the field are a group, not a provider or an IP called "(none)".
            if (r.key == bt::kNoneKey)
                return QString::fromUtf8(bt::unknownGroupLabel(m_by));
            if (m_by == bt::GroupBy::Domain && m_kb) {
                const std::string brand = bt::brandFor(*m_kb, r.key, {});
                if (!brand.empty())
                    return QString(key + u" ("_s + QString::fromStdString(brand) + u')');
            }
            return key;
        case Rate:
            return btui::rateText(r);
        case Level:
            return btui::levelText(r.level);
        case Families:
            return families();
        case LiftedLater:
            return r.liftedLater ? QVariant::fromValue<qint64>(r.liftedLater) : QVariant();
        case Incidents:
            return incident ? tr("yes") : QString();
        }
        return QVariant::fromValue<qint64>(count(column));
    case SortRole:
        switch (column) {
        case Key:
            return key;
        case Rate:
        case Level:
            return r.rate;
        case Families:
            return families();
        case Incidents:
            return incident ? 1 : 0;
        }
        return QVariant::fromValue<qint64>(count(column));
    case Qt::TextAlignmentRole:
        if (index.column() != Key && index.column() != Families && index.column() != Level)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::DecorationRole:
        if (index.column() == Families && !r.families.empty()) {
            auto top = std::max_element(r.families.begin(), r.families.end(),
                                        [](const auto& a, const auto& b) { return a.second < b.second; });
            return btui::familyColor(QString::fromStdString(top->first));
        }
        return {};
    case Qt::ToolTipRole:
        if (index.column() == Rate || index.column() == Level)
            return btui::basisText(r);
        if (index.column() == LiftedLater && r.liftedLater)
            return tr("Policy or reputation rejections followed later by a delivery to the same domain");
        return {};
    case KeyRole:
        return key;
    case TemplateIdRole:
        return QVariant::fromValue<qint64>(r.templateId);
    default:
        return {};
    }
}

QVariant GroupTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Key:
        return btui::groupLabel(m_by);
    case Bounces:
        return tr("Bounces");
    case Deferrals:
        return tr("Deferrals");
    case Deliveries:
        return tr("Deliveries");
    case Complaints:
        return tr("Complaints");
    case Rate:
        return tr("Rate");
    case Level:
        return tr("Level");
    case Families:
        return tr("Families");
    case LiftedLater:
        return tr("Lifted later");
    case Incidents:
        return tr("Incident");
    }
    return {};
}
