// SPDX-License-Identifier: MIT
#pragma once

#include "dmarcsources.h"

#include <QAbstractTableModel>

#include <vector>

/// One row per sending IP of the workspace's DMARC aggregate reports (bt::sourceReport): its
/// messages, pass rates, alignment, days, From domains and flags. A snapshot: sources are few
/// (one per sending IP), so a proxy may sort them.
class SourceTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Ip,
        Messages,
        DmarcPass,
        SpfPass,
        SpfAligned,
        DkimPass,
        DkimAligned,
        FirstSeen,
        LastSeen,
        Flags, ///< before the From domains, which may be many and are the ones to elide
        FromDomains,
        ColumnCount
    };
    enum Roles {
        SortRole = Qt::UserRole, ///< numbers as numbers, days as text
        IpRole, ///< the source IP
        UnverifiedRole, ///< bool: the source failed both aligned DKIM and SPF in most messages
    };

    explicit SourceTableModel(QObject* parent = nullptr);

    /// Swaps the snapshot.
    void setSources(std::vector<bt::SourceSummary> sources);
    const std::vector<bt::SourceSummary>& sources() const { return m_sources; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// The flags of a source in words ("unverified", "pass rate drop 2026-03-10 (3 days)"); the
    /// tooltip gives the rates.
    static QString flagsText(const bt::SourceSummary& s);

private:
    std::vector<bt::SourceSummary> m_sources;
};
