// SPDX-License-Identifier: MIT
#include "sourcetablemodel.h"

#include "utils/familycolors.h"
#include "utils/plaintext.h"

#include <QApplication>
#include <QColor>
#include <QPalette>
#include <QStringList>

using namespace Qt::StringLiterals;

namespace
{

double share(std::int64_t part, std::int64_t whole)
{
    return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

/// "97.5 %" below 100 with one decimal, so 99.6 % does not read as everything passing.
QString percent(double v)
{
    if (v >= 100.0)
        return u"100 %"_s;
    return QString::number(v, 'f', 1) + u" %"_s;
}

} // namespace

SourceTableModel::SourceTableModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void SourceTableModel::setSources(std::vector<bt::SourceSummary> sources)
{
    beginResetModel();
    m_sources = std::move(sources);
    endResetModel();
}

int SourceTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_sources.size());
}

int SourceTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString SourceTableModel::flagsText(const bt::SourceSummary& s)
{
    QStringList words;
    if (s.unverified)
        words.append(tr("unverified"));
    // The first drop is when to look; further drop days are counted, not listed.
    // Short, so that the column fits beside ten others at 1024 px.
    if (s.drops.size() == 1)
        words.append(tr("pass rate drop %1").arg(QString::fromStdString(s.drops.front().day)));
    else if (s.drops.size() > 1)
        words.append(tr("pass rate drop %1 (%n days)", nullptr, static_cast<int>(s.drops.size()))
                         .arg(QString::fromStdString(s.drops.front().day)));
    return words.join(u", "_s);
}

QVariant SourceTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const auto& s = m_sources[static_cast<std::size_t>(index.row())];
    const auto column = static_cast<Column>(index.column());
    const auto rate = [&](Column c) -> double {
        switch (c) {
        case DmarcPass:
            return share(s.dmarcPass, s.messages);
        case SpfPass:
            return share(s.spfPass, s.messages);
        case SpfAligned:
            return share(s.spfAligned, s.messages);
        case DkimPass:
            return share(s.dkimPass, s.messages);
        case DkimAligned:
            return share(s.dkimAligned, s.messages);
        default:
            return 0;
        }
    };
    switch (role) {
    case IpRole:
        return QString::fromStdString(s.ip);
    case UnverifiedRole:
        return s.unverified;
    case Qt::DisplayRole:
    case SortRole:
        switch (column) {
        case Ip:
            return QString::fromStdString(s.ip);
        case Messages:
            return role == SortRole ? QVariant(static_cast<qlonglong>(s.messages))
                                    : QVariant(QString::number(s.messages));
        case DmarcPass:
        case SpfPass:
        case SpfAligned:
        case DkimPass:
        case DkimAligned:
            return role == SortRole ? QVariant(rate(column)) : QVariant(percent(rate(column)));
        case FirstSeen:
            return QString::fromStdString(s.firstDay);
        case LastSeen:
            return QString::fromStdString(s.lastDay);
        case FromDomains: {
            QStringList d;
            for (const auto& x : s.fromDomains)
                d.append(QString::fromStdString(x));
            return d.join(u", "_s);
        }
        case Flags:
            // Sorted by weight: unverified first, then a drop, then nothing.
            if (role == SortRole)
                return (s.unverified ? 2 : 0) + (s.drops.empty() ? 0 : 1);
            return flagsText(s);
        case ColumnCount:
            break;
        }
        break;
    case Qt::TextAlignmentRole:
        if (column == Ip || column == FromDomains || column == Flags)
            return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::BackgroundRole:
        if (s.unverified) {
            // A warm tint that keeps the palette's text readable: mixed towards white on a light
            // base, towards the dark base on a dark one.
            const QColor base = QApplication::palette().color(QPalette::Base);
            const QColor warn = btui::familyColor(u"auth");
            if (base.lightness() < 128) {
                const double k = 0.30;
                return QColor::fromRgbF(base.redF() * (1 - k) + warn.redF() * k,
                                        base.greenF() * (1 - k) + warn.greenF() * k,
                                        base.blueF() * (1 - k) + warn.blueF() * k);
            }
            return btui::tinted(warn, 0.30);
        }
        break;
    case Qt::ToolTipRole: {
        QString tip = tr("%1: %n message(s) in %2 report(s)", nullptr, static_cast<int>(s.messages))
                          .arg(QString::fromStdString(s.ip))
                          .arg(s.reports);
        tip += u'\n' + tr("DMARC passed: %1 (aligned DKIM or aligned SPF)").arg(s.dmarcPass);
        tip += u'\n' + tr("failed both aligned DKIM and SPF: %1").arg(s.failBoth);
        if (s.unverified)
            tip += u'\n'
                + tr("Unverified: most of its messages failed both, so receivers cannot tell it from a forger");
        if (!s.fromDomains.empty()) {
            QStringList d;
            for (const auto& x : s.fromDomains)
                d.append(QString::fromStdString(x));
            // The column is the one cut first on a narrow window: the whole list is here.
            tip += u'\n' + tr("From domains: %1").arg(d.join(u", "_s));
        }
        for (const auto& d : s.drops)
            tip += u'\n'
                + tr("Pass rate %1 on %2, after %3 on its earlier days")
                      .arg(percent(d.rate), QString::fromStdString(d.day), percent(d.earlierRate));
        // Tooltips render markup, and the IP comes from a stranger's report.
        return btui::plainToolTip(tip);
    }
    default:
        break;
    }
    return {};
}

QVariant SourceTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case SpfPass:
            return tr("Messages whose SPF check passed, for any domain (auth_results)");
        case SpfAligned:
            return tr("Messages whose SPF passed for a domain aligned with the From domain (policy_evaluated)");
        case DkimPass:
            return tr("Messages with a DKIM signature that verified, for any domain (auth_results)");
        case DkimAligned:
            return tr("Messages with a verified DKIM signature of a domain aligned with the From domain");
        case DmarcPass:
            return tr("Messages passing DMARC: aligned DKIM or aligned SPF passed");
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    // Two lines: the columns are as wide as their header words, and eleven one-line headers
    // left no room for the flags at 1024 px.
    switch (section) {
    case Ip:
        return tr("Sending\nIP");
    case Messages:
        return tr("Messages");
    case DmarcPass:
        return tr("DMARC\npass");
    case SpfPass:
        return tr("SPF\npass");
    case SpfAligned:
        return tr("SPF\naligned");
    case DkimPass:
        return tr("DKIM\npass");
    case DkimAligned:
        return tr("DKIM\naligned");
    case FirstSeen:
        return tr("First\nseen");
    case LastSeen:
        return tr("Last\nseen");
    case FromDomains:
        return tr("From\ndomains");
    case Flags:
        return tr("Flags");
    default:
        return {};
    }
}
