// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"
#include "charts/chartview.h"

/// The most frequent reply templates (variable parts masked) as horizontal bars.
class TemplateChart : public ChartView
{
    Q_OBJECT
public:
    static constexpr int kMaxBars = 8;

    explicit TemplateChart(QWidget* parent = nullptr);

    /// `rows` from bt::groupReport(…, GroupBy::Template, filter).
    void setRows(const std::vector<bt::GroupRow>& rows);
    int barCount() const { return static_cast<int>(m_rows.size()); }

Q_SIGNALS:
    void templateClicked(qint64 templateId, const QString& text);

private:
    std::vector<bt::GroupRow> m_rows;
};
