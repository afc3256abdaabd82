// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"
#include "charts/chartview.h"

#include <QStringList>

class QBarSet;
class QHorizontalStackedBarSeries;

/// 550 concentration by provider: one bar per provider (largest first), stacked by family, as a
/// rate of the messages sent when deliveries are known (with the 1 % and 3 % threshold lines and
/// each provider's level) or as a share of all bounces otherwise.
class ProviderChart : public ChartView
{
    Q_OBJECT
public:
    static constexpr int kMaxBars = 8;

    explicit ProviderChart(QWidget* parent = nullptr);

    /// `rows` from bt::groupReport(…, GroupBy::Provider, filter); `what` names the bounces
    /// counted (e.g. "550 rejections").
    void setRows(const std::vector<bt::GroupRow>& rows, const QString& what);
    /// The providers shown, top to bottom.
    QStringList providers() const { return m_providers; }
    /// The bar set of a family (nullptr when the family has no bounces shown): for tests.
    QBarSet* barSet(const QString& family) const;

Q_SIGNALS:
    /// A bar segment was clicked: that provider, and the family of the segment.
    void barClicked(const QString& provider, const QString& family);

private:
    QStringList m_providers;
    QHorizontalStackedBarSeries* m_series = nullptr;
    std::vector<bt::GroupRow> m_rows;
};
