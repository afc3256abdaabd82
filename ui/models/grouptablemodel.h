// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"

#include <QAbstractTableModel>
#include <QSet>

#include <vector>

/// One row per group (provider, domain, sending IP, campaign, template, family or day) with its
/// counts, rate, level and flags. A snapshot: groups are few, so a proxy may sort them.
class GroupTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Key,
        Bounces,
        Deferrals,
        Deliveries,
        Complaints,
        Rate,
        Level,
        Families,
        LiftedLater,
        Incidents,
        ColumnCount
    };
    enum Roles {
        SortRole = Qt::UserRole, ///< numbers as numbers
        KeyRole, ///< the group key as stored ("(none)" for empty)
        TemplateIdRole,
    };

    explicit GroupTableModel(QObject* parent = nullptr);

    /// Swaps the snapshot. `incidentKeys` are the groups with an incident (provider or IP).
    void setRows(bt::GroupBy by, std::vector<bt::GroupRow> rows, const QSet<QString>& incidentKeys = {});
    /// The provider tables, to show a domain's brand beside it where another operator's servers
    /// take its mail ("aol.com (AOL)"); must outlive the model.
    void setKnowledge(const bt::KnowledgeBase* kb) { m_kb = kb; }
    const std::vector<bt::GroupRow>& rows() const { return m_rows; }
    bt::GroupBy groupBy() const { return m_by; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    const bt::KnowledgeBase* m_kb = nullptr;
    bt::GroupBy m_by = bt::GroupBy::Provider;
    std::vector<bt::GroupRow> m_rows;
    QSet<QString> m_incidents;
};

namespace btui
{
/// "4.2 %" with one decimal under 10 %, none above.
QString percentText(double rate);
/// The level's words for people: "act (> 3 %)", "watch (1–3 %)", "low (< 1 %)".
QString levelText(const std::string& level);
/// The rate with its basis, short enough for a cell: "5.0 % of 240 sent", "2.5 % of 4,000
/// given", "12 % of bounces".
QString rateText(const bt::GroupRow& r);
/// What the rate of `r` divides, with its numbers (a tooltip): which sources it is over, and
/// the bounces left out of it.
QString basisText(const bt::GroupRow& r);
} // namespace btui
