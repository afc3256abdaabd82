// SPDX-License-Identifier: MIT
#pragma once

#include "analysis.h"
#include "charts/chartview.h"

/// The most frequent reply templates (variable parts masked) as horizontal bars.
class TemplateChart : public ChartView
{
    Q_OBJECT
public:
    static constexpr int kMaxBars = 10;
    static constexpr int kMinBars = 3;

    explicit TemplateChart(QWidget* parent = nullptr);

    /// `rows` from bt::groupReport(…, GroupBy::Template, filter).
    void setRows(const std::vector<bt::GroupRow>& rows);
    int barCount() const { return static_cast<int>(m_rows.size()); }

Q_SIGNALS:
    void templateClicked(qint64 templateId, const QString& text);

protected:
    void fitToSize() override;

private:
    void rebuild();

    std::vector<bt::GroupRow> m_allRows; // as given, for a rebuild at another size
    int m_fits = 0;
    int m_labelWidth = 0; // maxLabelWidth() at the last build
    std::vector<bt::GroupRow> m_rows;
};
