// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"
#include "charts/chartview.h"

#include <QStringList>

class QBarSet;
class QHorizontalStackedBarSeries;

/// 550 concentration by provider: one bar per provider (largest first), stacked by family, as a
/// rate of the messages sent when deliveries are known (with the 1 % and 3 % threshold lines and
/// each provider's level) or as a share of all bounces otherwise. The same chart serves any
/// grouping (setGrouping): the Groups view shows its current grouping with it.
class ProviderChart : public ChartView
{
    Q_OBJECT
public:
    static constexpr int kMaxBars = 12;
    /// Bars shown even when the chart is low (their labels may then be elided).
    static constexpr int kMinBars = 3;
    /// The group of events without a provider (groupReport's key for them).
    static constexpr std::string_view kUnknownKey = "(none)";

    explicit ProviderChart(QWidget* parent = nullptr);

    /// `rows` from bt::groupReport(…, GroupBy::Provider, filter); `what` names the bounces
    /// counted (e.g. "550 rejections").
    void setRows(const std::vector<bt::GroupRow>& rows, const QString& what);
    /// What the bars are: providers unless told (recipient domains, sending IPs, campaigns…).
    void setGrouping(bt::GroupBy by) { m_by = by; }
    bt::GroupBy grouping() const { return m_by; }
    /// The providers shown, top to bottom.
    QStringList providers() const { return m_providers; }
    /// The bar set of a family (nullptr when the family has no bounces shown): for tests.
    QBarSet* barSet(const QString& family) const;
    /// The families with bars, in the legend's order.
    QStringList families() const { return m_families; }

Q_SIGNALS:
    /// A bar segment was clicked: that provider, and the family of the segment.
    void barClicked(const QString& provider, const QString& family);

protected:
    void fitToSize() override;

private:
    void rebuild();

    /// "provider", "recipient domain": the bars' word in the title; the unknown group's label.
    QString groupWord() const;
    QString unknownLabel(bool longForm) const;

    bt::GroupBy m_by = bt::GroupBy::Provider;
    std::vector<bt::GroupRow> m_allRows; // as given, for a rebuild at another size
    QString m_what;
    int m_fits = 0; // bars that fitted at the last build
    int m_labelWidth = 0; // maxLabelWidth() at the last build
    QStringList m_families;
    QStringList m_providers;
    QHorizontalStackedBarSeries* m_series = nullptr;
    std::vector<bt::GroupRow> m_rows;
};
