// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"
#include "charts/chartview.h"
#include "monitor.h"
#include "query.h"

#include <QList>
#include <QPair>
#include <QStringList>

class QStackedBarSeries;

/// Bounces per hour or day stacked by family, deliveries as a line (right axis) where known,
/// incidents marked with a red triangle above their bucket.
class TimeChart : public ChartView
{
    Q_OBJECT
public:
    explicit TimeChart(QWidget* parent = nullptr);

    /// `listings`: blocklist listed periods of the monitored IPs and domains (bt::listingHistory),
    /// drawn as bands so a reputation spike and a listing line up.
    void setSeries(const std::vector<bt::TimeBucket>& buckets, const std::vector<bt::Incident>& incidents, bool hourly,
                   const std::vector<bt::Listing>& listings = {});
    QStringList buckets() const { return m_buckets; }
    /// The texts under the time axis, left to right: for tests.
    QStringList axisLabels() const { return m_axisLabels; }
    /// The incidents' spans shaded, as bucket indexes (first, last): for tests.
    QList<QPair<int, int>> spans() const { return m_spans; }
    /// The listed periods' bands, as bucket indexes (first, last): for tests.
    QList<QPair<int, int>> listingBands() const { return m_listingBands; }

Q_SIGNALS:
    /// A bar segment was clicked: its bucket ("2026-03-01" or "2026-03-01T10") and family.
    void bucketClicked(const QString& bucket, const QString& family);

protected:
    void fitToSize() override;

private:
    void rebuild();
    /// How many bucket labels fit under the axis at the current width, and in which form.
    struct AxisLayout {
        int labels = 0;
        int brevity = 0; ///< labelOf()'s
        bool operator==(const AxisLayout&) const = default;
    };
    AxisLayout axisLayout() const;
    /// A bucket's label: "04-29", "2024-04-29" when the data spans years, "04-29 10h" hourly;
    /// shorter forms ("2024-04", "2024") when the chart is narrow (`brevity` 1 and 2).
    QString labelOf(const QString& bucket, int brevity = 0) const;

    QStringList m_buckets;
    QStringList m_axisLabels;
    QList<QPair<int, int>> m_spans;
    QList<QPair<int, int>> m_listingBands;
    std::vector<bt::Listing> m_listings;
    std::vector<bt::TimeBucket> m_data;
    std::vector<bt::Incident> m_incidents;
    bool m_hourly = false;
    bool m_spansYears = false;
    AxisLayout m_axis; // at the last build
};
