// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"
#include "charts/chartview.h"
#include "query.h"

#include <QStringList>

class QStackedBarSeries;

/// Bounces per hour or day stacked by family, deliveries as a line (right axis) where known,
/// incidents marked with a red triangle above their bucket.
class TimeChart : public ChartView
{
    Q_OBJECT
public:
    explicit TimeChart(QWidget* parent = nullptr);

    void setSeries(const std::vector<bt::TimeBucket>& buckets, const std::vector<bt::Incident>& incidents, bool hourly);
    QStringList buckets() const { return m_buckets; }

Q_SIGNALS:
    /// A bar segment was clicked: its bucket ("2026-03-01" or "2026-03-01T10") and family.
    void bucketClicked(const QString& bucket, const QString& family);

private:
    QStringList m_buckets;
    std::vector<bt::TimeBucket> m_data;
};
